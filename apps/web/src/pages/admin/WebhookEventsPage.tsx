import { useInfiniteQuery } from '@tanstack/react-query';
import type { AdminWebhookEvent } from '@tierbase/contracts';
import { type FormEvent, useState } from 'react';
import { Link } from 'react-router';
import { Button } from '../../components/Button.tsx';
import { Card } from '../../components/Card.tsx';
import { Field } from '../../components/Field.tsx';
import { LoadMore } from '../../components/LoadMore.tsx';
import { PageTitle } from '../../components/PageTitle.tsx';
import { EmptyState, ErrorState, LoadingState } from '../../components/States.tsx';
import { adminApi, type EventStatus } from './adminApi.ts';
import { cell, DataTable, formatDateTime, Pill, Select } from './ui.tsx';

export function EventStatusPill({ event }: { event: AdminWebhookEvent }) {
  if (event.processed) return <Pill tone="ok">Processed</Pill>;
  return event.errorMessage ? <Pill tone="danger">Failed</Pill> : <Pill tone="warn">Pending</Pill>;
}

export default function WebhookEventsPage() {
  const [type, setType] = useState('');
  const [status, setStatus] = useState<EventStatus | ''>('');
  const [filters, setFilters] = useState<{ type: string; status: EventStatus | '' }>({
    type: '',
    status: '',
  });
  const query = useInfiniteQuery({
    queryKey: ['admin', 'webhook-events', filters],
    queryFn: ({ pageParam }) => adminApi.webhookEvents(filters, pageParam),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
  const events = query.data?.pages.flatMap((page) => page.events) ?? [];
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    setFilters({ type: type.trim(), status });
  };

  return (
    <div className="space-y-6">
      <div>
        <PageTitle>Webhook events</PageTitle>
        <p className="mt-1 text-muted">
          Every Stripe event received, newest first. Open one to see its payload or replay it.
        </p>
      </div>
      <Card>
        <form onSubmit={onSubmit} className="grid gap-3 sm:grid-cols-[1fr_12rem_auto] sm:items-end">
          <Field
            label="Event type"
            placeholder="invoice.payment_failed"
            name="type"
            maxLength={100}
            value={type}
            onChange={(event) => setType(event.target.value)}
          />
          <Select
            label="Status"
            value={status}
            onChange={(event) => setStatus(event.target.value as EventStatus | '')}
          >
            <option value="">Any</option>
            <option value="failed">Failed</option>
            <option value="pending">Pending</option>
            <option value="processed">Processed</option>
          </Select>
          <Button type="submit">Filter</Button>
        </form>
      </Card>
      <Card title="Events">
        {query.isPending ? (
          <LoadingState label="Loading events…" />
        ) : query.isError ? (
          <ErrorState
            error={query.error}
            onRetry={() => void query.refetch()}
            title="We could not load events"
          />
        ) : events.length === 0 ? (
          <EmptyState title="No events match">Stripe events appear here as they arrive.</EmptyState>
        ) : (
          <>
            <DataTable
              caption="Stripe events, newest first"
              columns={['Event', 'Type', 'Status', 'Attempts', 'Received']}
            >
              {events.map((event) => (
                <tr key={event.eventId}>
                  <td className={cell}>
                    <Link
                      to={`/admin/webhook-events/${encodeURIComponent(event.eventId)}`}
                      className="font-mono text-xs underline break-all"
                    >
                      {event.eventId}
                    </Link>
                  </td>
                  <td className={`${cell} font-mono text-xs`}>{event.eventType}</td>
                  <td className={cell}>
                    <EventStatusPill event={event} />
                    {event.errorMessage && <p className="mt-1 text-xs text-danger">{event.errorMessage}</p>}
                    {event.note && <p className="mt-1 text-xs text-muted">{event.note}</p>}
                  </td>
                  <td className={cell}>{event.attempts}</td>
                  <td className={cell}>{formatDateTime(event.createdAt)}</td>
                </tr>
              ))}
            </DataTable>
            <LoadMore query={query}>Load more events</LoadMore>
          </>
        )}
      </Card>
    </div>
  );
}
