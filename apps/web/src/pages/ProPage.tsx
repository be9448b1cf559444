import { useInfiniteQuery, useQuery, useQueryClient } from '@tanstack/react-query';
import { type AiGenerateRequest, type AiStatusResponse, aiGenerateRequest } from '@tierbase/contracts';
import { useId, useRef, useState } from 'react';
import { type AiStreamEvent, api, isApiError } from '../api.ts';
import { Alert } from '../components/Alert.tsx';
import { Button } from '../components/Button.tsx';
import { Card } from '../components/Card.tsx';
import { PageTitle } from '../components/PageTitle.tsx';
import { EmptyState, ErrorState, LoadingState } from '../components/States.tsx';
import { UpgradePrompt } from '../components/UpgradePrompt.tsx';
import { useApiForm } from '../hooks/useApiForm.ts';
import { useSubscription } from '../hooks/useSubscription.ts';
import { formatDate } from '../lib/format.ts';

export default function ProPage() {
  const { isPro, isLoading } = useSubscription();
  return (
    <div className="space-y-8">
      <div>
        <PageTitle>AI assistant</PageTitle>
        <p className="mt-1 text-muted">
          Draft, summarise and answer questions. Answers stream as they are written.
        </p>
      </div>
      {isLoading ? <LoadingState /> : isPro ? <Assistant /> : <UpgradePrompt feature="The AI assistant" />}
    </div>
  );
}

const STATUS_KEY = ['ai', 'status'] as const;

function Assistant() {
  const status = useQuery({ queryKey: STATUS_KEY, queryFn: api.aiStatus });
  if (status.isPending) return <LoadingState label="Loading the assistant…" />;
  if (status.isError) {
    return (
      <ErrorState
        error={status.error}
        onRetry={() => void status.refetch()}
        title="The assistant did not load"
      />
    );
  }
  return (
    <div className="grid gap-8 lg:grid-cols-[1fr_20rem]">
      <div className="min-w-0 space-y-8">
        {status.data.configured ? (
          <PromptForm status={status.data} />
        ) : (
          <Alert tone="warning" title="The assistant is not set up on this server">
            An administrator needs to configure an AI provider (OPENAI_API_KEY or OPENAI_BASE_URL).
          </Alert>
        )}
        <History />
      </div>
      <Usage status={status.data} />
    </div>
  );
}

function Meter({ label, used, limit }: { label: string; used: number; limit: number }) {
  const fraction = limit > 0 ? Math.min(1, used / limit) : 0;
  return (
    <div>
      <div className="flex justify-between text-sm">
        <span>{label}</span>
        <span className="text-muted">
          {used.toLocaleString()} of {limit.toLocaleString()}
        </span>
      </div>
      {/* biome-ignore lint/a11y/useSemanticElements: a native <meter> cannot be styled the same in every browser */}
      <div
        role="meter"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={limit}
        aria-valuenow={used}
        className="mt-1.5 h-2 overflow-hidden rounded-full bg-raised"
      >
        <div className="h-full rounded-full bg-brand" style={{ width: `${fraction * 100}%` }} />
      </div>
    </div>
  );
}

function Usage({ status }: { status: AiStatusResponse }) {
  const { usage } = status;
  return (
    <Card title="This period" className="h-fit" description={`Resets on ${formatDate(usage.period.end)}`}>
      <div className="space-y-4">
        <Meter label="Requests" used={usage.requests.used} limit={usage.requests.limit} />
        <Meter label="Tokens" used={usage.tokens.used} limit={usage.tokens.limit} />
        <p className="text-xs text-muted">Model: {status.model}</p>
      </div>
    </Card>
  );
}

function PromptForm({ status }: { status: AiStatusResponse }) {
  const queryClient = useQueryClient();
  const promptId = useId();
  const [output, setOutput] = useState('');
  const [finished, setFinished] = useState<string | null>(null);
  const controller = useRef<AbortController | null>(null);
  const max = status.limits.maxPromptChars;

  /** Streams the answer into the page; resolves once it is written or stopped. */
  const generate = async (request: AiGenerateRequest) => {
    const abort = new AbortController();
    controller.current = abort;
    setOutput('');
    setFinished(null);
    // The provider can fail after the stream has begun: the answer so far stays, and the form says so.
    let failed = null as Error | null;
    const onEvent = (event: AiStreamEvent) => {
      if (event.event === 'delta') setOutput((text) => text + event.data.text);
      if (event.event === 'done') {
        setFinished(
          event.data.finishReason === 'length'
            ? 'Stopped at the length limit.'
            : `Done · ${event.data.usage.totalTokens.toLocaleString()} tokens`,
        );
      }
      if (event.event === 'error') failed = new Error(event.data.error);
    };
    try {
      await api.aiGenerateStream(request, onEvent, abort.signal);
    } catch (caught) {
      if (!(caught instanceof DOMException && caught.name === 'AbortError')) throw caught;
      setFinished('Stopped.');
    } finally {
      controller.current = null;
      const refresh = () => {
        void queryClient.invalidateQueries({ queryKey: STATUS_KEY });
        void queryClient.invalidateQueries({ queryKey: ['ai', 'history'] });
      };
      refresh();
      // A stopped answer is recorded by the server once it notices the disconnect, a moment after
      // the browser gave up on it: look again so the history and usage show it.
      if (abort.signal.aborted) for (const delay of [750, 2500]) setTimeout(refresh, delay);
    }
    if (failed) throw failed;
  };
  const form = useApiForm({ initial: { prompt: '' }, schema: aiGenerateRequest, submit: generate });
  const { mutation } = form;
  const prompt = form.values.prompt;
  const running = mutation.isPending;
  const fieldError = form.errors.prompt;
  const quota = isApiError(mutation.error) && mutation.error.code === 'AI_QUOTA_EXCEEDED';

  return (
    <Card>
      <form onSubmit={form.onSubmit} className="space-y-4">
        <div>
          <label htmlFor={promptId} className="block text-sm font-medium">
            Your prompt
          </label>
          <textarea
            id={promptId}
            rows={5}
            maxLength={max}
            value={prompt}
            onChange={(event) => form.setValue('prompt', event.target.value)}
            aria-invalid={fieldError ? true : undefined}
            aria-describedby={`${promptId}-count`}
            placeholder="Summarise this week's customer feedback in five bullet points…"
            className="mt-1.5 block w-full resize-y rounded-lg border border-line-strong bg-surface px-3 py-2.5 text-base shadow-sm placeholder:text-muted"
          />
          <p id={`${promptId}-count`} className="mt-1.5 text-right text-xs text-muted">
            {prompt.length.toLocaleString()} / {max.toLocaleString()} characters
          </p>
          {fieldError && <p className="text-sm font-medium text-danger">{fieldError}</p>}
        </div>
        <div className="flex flex-wrap gap-3">
          <Button type="submit" loading={running} disabled={!prompt.trim()}>
            {running ? 'Writing…' : 'Generate'}
          </Button>
          {running && (
            <Button variant="secondary" onClick={() => controller.current?.abort()}>
              Stop
            </Button>
          )}
        </div>
      </form>
      {form.formError ? (
        <div className="mt-4">
          <Alert
            tone="danger"
            title={quota ? 'You have used this period’s quota' : 'The assistant could not answer'}
          >
            {form.formError}
          </Alert>
        </div>
      ) : null}
      {(output || running) && (
        <section aria-label="Answer" aria-busy={running} className="mt-6 rounded-xl bg-raised p-4">
          <p className="whitespace-pre-wrap leading-relaxed">{output || '…'}</p>
        </section>
      )}
      <p role="status" className="mt-2 text-xs text-muted">
        {finished ?? ''}
      </p>
    </Card>
  );
}

function History() {
  const query = useInfiniteQuery({
    queryKey: ['ai', 'history'],
    queryFn: ({ pageParam }) => api.aiHistory(pageParam),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
  const items = query.data?.pages.flatMap((page) => page.items) ?? [];
  return (
    <Card title="History" description="Your past requests, newest first. Only you can see them.">
      {query.isPending ? (
        <LoadingState label="Loading history…" />
      ) : query.isError ? (
        <ErrorState
          error={query.error}
          onRetry={() => void query.refetch()}
          title="We could not load your history"
        />
      ) : items.length === 0 ? (
        <EmptyState title="No requests yet">Your prompts and answers will be kept here.</EmptyState>
      ) : (
        <>
          <ul className="divide-y divide-line">
            {items.map((item) => (
              <li key={item.id} className="py-4">
                <div className="flex flex-wrap items-baseline justify-between gap-2">
                  <p className="font-medium break-words">{item.prompt}</p>
                  <p className="text-xs text-muted">
                    {formatDate(item.createdAt)}
                    {item.status !== 'completed' ? ` · ${item.status}` : ''}
                  </p>
                </div>
                <p className="mt-1 line-clamp-3 text-sm whitespace-pre-wrap text-muted">
                  {item.output || '—'}
                </p>
              </li>
            ))}
          </ul>
          {query.hasNextPage && (
            <Button
              variant="secondary"
              loading={query.isFetchingNextPage}
              onClick={() => void query.fetchNextPage()}
            >
              Load more
            </Button>
          )}
        </>
      )}
    </Card>
  );
}
