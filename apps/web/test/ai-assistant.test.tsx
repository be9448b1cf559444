import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, test, vi } from 'vitest';
import { AI_STATUS, type FakeResponse, fail, fakeApi, ok, PRO_STATUS, profile } from './fake-api.ts';
import { renderApp } from './render.tsx';

/**
 * A Pro user on the assistant page; POST /api/ai/generate/ answers `answer()` (an event stream or an
 * error envelope, which fake-api's JSON answers cannot be), and the bodies it was sent are returned.
 */
function setup(answer: () => Response) {
  const api = fakeApi({
    'GET /api/profile/': ok(profile({ isPro: true })),
    'GET /api/billing/status/': ok(PRO_STATUS),
    'GET /api/ai/status/': ok(AI_STATUS),
    'GET /api/ai/history/': ok({ items: [], nextCursor: null }),
  });
  const bodies: unknown[] = [];
  vi.stubGlobal('fetch', async (input: RequestInfo | URL, init?: RequestInit) => {
    if (String(input).includes('/api/ai/generate/')) {
      bodies.push(JSON.parse(String(init?.body)));
      return answer();
    }
    return api.fetchMock(input, init);
  });
  return bodies;
}

/** A streamed answer, as the server writes it (`event:` and `data:` lines). */
const sse = (events: [string, unknown][]) =>
  new Response(events.map(([event, data]) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`).join(''), {
    headers: { 'content-type': 'text/event-stream' },
  });
/** An error envelope, answered before any stream starts. */
const refusal = (answer: FakeResponse) =>
  new Response(JSON.stringify(answer.body), {
    status: answer.status ?? 400,
    headers: { 'content-type': 'application/json' },
  });

describe('AI assistant', () => {
  test('the answer streams in; the request carries the prompt as typed', async () => {
    const bodies = setup(() =>
      sse([
        ['start', { id: 'r1', model: 'm' }],
        ['delta', { text: 'Hello' }],
        ['delta', { text: ' world' }],
        ['done', { finishReason: 'stop', usage: { promptTokens: 1, completionTokens: 2, totalTokens: 12 } }],
      ]),
    );
    const user = userEvent.setup();
    renderApp('/pro');
    await user.type(await screen.findByLabelText('Your prompt'), 'Hi there');
    await user.click(screen.getByRole('button', { name: 'Generate' }));
    expect(await screen.findByText('Done · 12 tokens')).toBeInTheDocument();
    expect(screen.getByRole('region', { name: 'Answer' })).toHaveTextContent('Hello world');
    expect(bodies).toEqual([{ prompt: 'Hi there', stream: true }]);
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });

  test('a prompt the plan refuses is said on the field', async () => {
    setup(() =>
      refusal(
        fail(400, 'VALIDATION_ERROR', 'Some fields are invalid.', {
          details: { prompt: ['Your plan allows at most 8000 characters.'] },
        }),
      ),
    );
    const user = userEvent.setup();
    renderApp('/pro');
    const prompt = await screen.findByLabelText('Your prompt');
    await user.type(prompt, 'Hi');
    await user.click(screen.getByRole('button', { name: 'Generate' }));
    expect(await screen.findByText('Your plan allows at most 8000 characters.')).toBeInTheDocument();
    expect(prompt).toHaveAttribute('aria-invalid', 'true');
    expect(screen.getByText('Please correct the highlighted fields.')).toBeInTheDocument();
    expect(screen.getByText('The assistant could not answer')).toBeInTheDocument();
  });

  test('a used-up quota says so, with the server’s message', async () => {
    setup(() =>
      refusal(
        fail(429, 'AI_QUOTA_EXCEEDED', 'You have used this period’s requests. The quota resets on 9 Jan.'),
      ),
    );
    const user = userEvent.setup();
    renderApp('/pro');
    await user.type(await screen.findByLabelText('Your prompt'), 'Hi');
    await user.click(screen.getByRole('button', { name: 'Generate' }));
    expect(await screen.findByText('You have used this period’s quota')).toBeInTheDocument();
    expect(
      screen.getByText('You have used this period’s requests. The quota resets on 9 Jan.'),
    ).toBeInTheDocument();
  });

  test('a provider failure mid-stream keeps what was written and says it failed', async () => {
    setup(() =>
      sse([
        ['delta', { text: 'Partial' }],
        ['error', { code: 'AI_PROVIDER_ERROR', error: 'boom' }],
      ]),
    );
    const user = userEvent.setup();
    renderApp('/pro');
    await user.type(await screen.findByLabelText('Your prompt'), 'Hi');
    await user.click(screen.getByRole('button', { name: 'Generate' }));
    expect(await screen.findByText('The assistant could not answer')).toBeInTheDocument();
    expect(screen.getByText('Something went wrong. Please try again.')).toBeInTheDocument();
    expect(screen.getByRole('region', { name: 'Answer' })).toHaveTextContent('Partial');
    await waitFor(() => expect(screen.getByRole('button', { name: 'Generate' })).toBeEnabled());
  });
});
