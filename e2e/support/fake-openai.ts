import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A tiny OpenAI-compatible server (POST /v1/chat/completions, plain and streamed) so the Pro page's
 * assistant runs end to end without a key or a network. The answer is deterministic; a prompt that
 * contains "slowly" streams without end, a word at a time, until the client stops it.
 */
export async function startFakeOpenAi(): Promise<{ baseUrl: string; stop(): Promise<void> }> {
  const server = http.createServer((request, response) => {
    if (request.method !== 'POST' || !request.url?.endsWith('/chat/completions')) {
      response
        .writeHead(404, { 'content-type': 'application/json' })
        .end('{"error":{"message":"not found"}}');
      return;
    }
    let raw = '';
    request.on('data', (chunk) => {
      raw += chunk;
    });
    request.on('end', () => {
      const body = JSON.parse(raw) as { model: string; stream?: boolean; messages: { content: string }[] };
      const prompt = body.messages.at(-1)?.content ?? '';
      const answer = `Here is a short answer to “${prompt.slice(0, 60)}”, written by the test model.`;
      const usage = { prompt_tokens: 12, completion_tokens: 16, total_tokens: 28 };
      const base = { id: 'chatcmpl-e2e', created: Math.floor(Date.now() / 1000), model: body.model };
      if (!body.stream) {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(
          JSON.stringify({
            ...base,
            object: 'chat.completion',
            choices: [{ index: 0, message: { role: 'assistant', content: answer }, finish_reason: 'stop' }],
            usage,
          }),
        );
        return;
      }
      response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      const send = (data: unknown) => response.write(`data: ${JSON.stringify(data)}\n\n`);
      if (prompt.includes('slowly')) {
        // A long answer, a word every 150 ms, until the client goes away: for the Stop button.
        let count = 0;
        const timer = setInterval(() => {
          count += 1;
          send({
            ...base,
            object: 'chat.completion.chunk',
            choices: [{ index: 0, delta: { content: `word${count} ` }, finish_reason: null }],
          });
          if (count >= 400) {
            clearInterval(timer);
            response.end('data: [DONE]\n\n');
          }
        }, 150);
        response.on('close', () => clearInterval(timer));
        return;
      }
      for (const word of answer.split(/(?<= )/)) {
        send({
          ...base,
          object: 'chat.completion.chunk',
          choices: [{ index: 0, delta: { content: word }, finish_reason: null }],
        });
      }
      send({
        ...base,
        object: 'chat.completion.chunk',
        choices: [{ index: 0, delta: {}, finish_reason: 'stop' }],
      });
      send({ ...base, object: 'chat.completion.chunk', choices: [], usage });
      response.end('data: [DONE]\n\n');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
