import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useParams } from 'react-router';
import { Alert } from '../../components/Alert.tsx';
import { Button } from '../../components/Button.tsx';
import { Card } from '../../components/Card.tsx';
import { PageTitle } from '../../components/PageTitle.tsx';
import { ErrorState, LoadingState } from '../../components/States.tsx';
import { errorMessage } from '../../lib/errors.ts';
import { adminApi } from './adminApi.ts';
import { formatDateTime } from './ui.tsx';
import { EventStatusPill } from './WebhookEventsPage.tsx';

export default function WebhookEventDetailPage() {
  const { eventId = '' } = useParams();
  const queryClient = useQueryClient();
  const query = useQuery({
    queryKey: ['admin', 'webhook-event', eventId],
    queryFn: () => adminApi.webhookEvent(eventId),
  });
  const replay = useMutation({
    mutationFn: () => adminApi.replay(eventId),
    onSettled: () => {
      void queryClient.invalidateQueries({ queryKey: ['admin', 'webhook-event', eventId] });
      void queryClient.invalidateQueries({ queryKey: ['admin', 'webhook-events'] });
      void queryClient.invalidateQueries({ queryKey: ['admin', 'audit'] });
    },
  });

  if (query.isPending) return <LoadingState label="Loading the event…" />;
  if (query.isError) {
    return (
      <ErrorState
        error={query.error}
        onRetry={() => void query.refetch()}
        title="We could not load this event"
      />
    );
  }
  const event = query.data;
  return (
    <div className="space-y-6">
      <div>
        <p className="text-sm">
          <Link to="/admin/webhook-events" className="text-muted underline">
            ← All events
          </Link>
        </p>
        <PageTitle className="mt-2 break-all" title={`Event ${event.eventId}`}>
          {event.eventType}
        </PageTitle>
        <p className="mt-1 font-mono text-xs break-all text-muted">{event.eventId}</p>
      </div>

      {replay.data &&
        (replay.data.ok ? (
          <Alert tone="success">Replayed: the event was processed again.</Alert>
        ) : (
          <Alert tone="danger" title="The replay failed">
            {replay.data.error}
          </Alert>
        ))}
      {replay.isError && (
        <Alert tone="danger" title="The replay failed">
          {errorMessage(replay.error)}
        </Alert>
      )}

      <Card title="Processing">
        <dl className="grid gap-x-6 gap-y-3 sm:grid-cols-2">
          <div>
            <dt className="text-sm text-muted">Status</dt>
            <dd className="mt-1">
              <EventStatusPill event={event} />
            </dd>
          </div>
          <div>
            <dt className="text-sm text-muted">Attempts</dt>
            <dd className="mt-1 font-medium">{event.attempts}</dd>
          </div>
          <div>
            <dt className="text-sm text-muted">Received</dt>
            <dd className="mt-1 font-medium">{formatDateTime(event.createdAt)}</dd>
          </div>
          <div>
            <dt className="text-sm text-muted">Processed</dt>
            <dd className="mt-1 font-medium">{formatDateTime(event.processedAt)}</dd>
          </div>
          {event.errorMessage && (
            <div className="sm:col-span-2">
              <dt className="text-sm text-muted">Last error</dt>
              <dd className="mt-1 font-medium text-danger">{event.errorMessage}</dd>
            </div>
          )}
          {event.note && (
            <div className="sm:col-span-2">
              <dt className="text-sm text-muted">Note</dt>
              <dd className="mt-1 font-medium">{event.note}</dd>
            </div>
          )}
        </dl>
        <div className="mt-4">
          <Button loading={replay.isPending} onClick={() => replay.mutate()}>
            {replay.isPending ? 'Replaying…' : 'Replay event'}
          </Button>
        </div>
      </Card>

      <Card title="Payload" description="As Stripe sent it.">
        <section
          aria-label="Event payload"
          // biome-ignore lint/a11y/noNoninteractiveTabindex: the scrollable payload must be reachable by keyboard
          tabIndex={0}
          className="max-h-[32rem] overflow-auto rounded-lg bg-raised p-4"
        >
          <pre className="font-mono text-xs">{JSON.stringify(event.payload, null, 2)}</pre>
        </section>
      </Card>
    </div>
  );
}
