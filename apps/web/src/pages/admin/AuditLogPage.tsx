import { useInfiniteQuery } from '@tanstack/react-query';
import type { AdminAuditEntry } from '@tierbase/contracts';
import { Link } from 'react-router';
import { Card } from '../../components/Card.tsx';
import { LoadMore } from '../../components/LoadMore.tsx';
import { PageTitle } from '../../components/PageTitle.tsx';
import { EmptyState, ErrorState, LoadingState } from '../../components/States.tsx';
import { adminApi } from './adminApi.ts';
import { cell, DataTable, formatDateTime } from './ui.tsx';

const actions: Record<string, string> = {
  'user.deactivate': 'Deactivated user',
  'user.reactivate': 'Reactivated user',
  'user.make_staff': 'Made staff',
  'user.revoke_staff': 'Revoked staff',
  'subscription.sync': 'Synced subscription from Stripe',
  'webhook_event.replay': 'Replayed webhook event',
  'email.retry': 'Retried email',
};

function Target({ entry }: { entry: AdminAuditEntry }) {
  const id = encodeURIComponent(entry.targetId);
  if (entry.targetType === 'user') {
    return (
      <Link to={`/admin/users/${id}`} className="font-mono text-xs underline break-all">
        {entry.targetId}
      </Link>
    );
  }
  if (entry.targetType === 'webhook_event') {
    return (
      <Link to={`/admin/webhook-events/${id}`} className="font-mono text-xs underline break-all">
        {entry.targetId}
      </Link>
    );
  }
  return <span className="font-mono text-xs break-all">{entry.targetId}</span>;
}

export default function AuditLogPage() {
  const query = useInfiniteQuery({
    queryKey: ['admin', 'audit'],
    queryFn: ({ pageParam }) => adminApi.audit(pageParam),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
  const entries = query.data?.pages.flatMap((page) => page.entries) ?? [];

  return (
    <div className="space-y-6">
      <div>
        <PageTitle>Audit log</PageTitle>
        <p className="mt-1 text-muted">
          Every action staff took in this console: who, what and when, newest first.
        </p>
      </div>
      <Card title="Staff actions">
        {query.isPending ? (
          <LoadingState label="Loading the audit log…" />
        ) : query.isError ? (
          <ErrorState
            error={query.error}
            onRetry={() => void query.refetch()}
            title="We could not load the audit log"
          />
        ) : entries.length === 0 ? (
          <EmptyState title="No staff actions yet" />
        ) : (
          <>
            <DataTable
              caption="Staff actions, newest first"
              columns={['When', 'Who', 'What', 'Target', 'Details']}
            >
              {entries.map((entry) => (
                <tr key={entry.id}>
                  <td className={`${cell} whitespace-nowrap`}>{formatDateTime(entry.createdAt)}</td>
                  <td className={`${cell} break-all`}>{entry.staffEmail ?? 'Deleted account'}</td>
                  <td className={cell}>{actions[entry.action] ?? entry.action}</td>
                  <td className={cell}>
                    <Target entry={entry} />
                  </td>
                  <td className={`${cell} font-mono text-xs break-all`}>
                    {Object.keys(entry.details).length > 0 ? JSON.stringify(entry.details) : '—'}
                  </td>
                </tr>
              ))}
            </DataTable>
            <LoadMore query={query} />
          </>
        )}
      </Card>
    </div>
  );
}
