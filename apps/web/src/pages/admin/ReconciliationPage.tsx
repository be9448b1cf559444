import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { ReconciliationRun } from '@tierbase/contracts';
import { Alert } from '../../components/Alert.tsx';
import { Button } from '../../components/Button.tsx';
import { Card } from '../../components/Card.tsx';
import { PageTitle } from '../../components/PageTitle.tsx';
import { EmptyState, ErrorState, LoadingState } from '../../components/States.tsx';
import { errorMessage } from '../../lib/errors.ts';
import { adminApi } from './adminApi.ts';
import { cell, DataTable, formatDateTime, Pill } from './ui.tsx';

const statusTones = { running: 'warn', finished: 'ok', interrupted: 'danger' } as const;
const statusLabels = { running: 'Running', finished: 'Finished', interrupted: 'Interrupted' } as const;
const triggerLabels = { schedule: 'Schedule', cli: 'Command line', admin: 'Staff' } as const;

/** "status: active → canceled" for each field a repair changed. */
function changes(before: Record<string, unknown> | null, after: Record<string, unknown>): string {
  return Object.entries(after)
    .map(([field, value]) => `${field}: ${String(before?.[field] ?? '—')} → ${String(value ?? '—')}`)
    .join('; ');
}

function LatestReport({ run }: { run: ReconciliationRun }) {
  const report = run.report;
  if (!report) {
    return (
      <p className="text-muted">
        {run.status === 'running'
          ? 'This run is still going; its report appears when it ends.'
          : 'No report.'}
      </p>
    );
  }
  const failedReplays = report.eventsReplayed.filter((event) => !event.ok).length;
  return (
    <div className="space-y-4">
      <dl className="grid gap-4 sm:grid-cols-4">
        {[
          ['Customers checked', report.customersChecked],
          ['Repaired', report.repaired.length + report.unlisted.repaired],
          [
            'Events replayed',
            `${report.eventsReplayed.length}${failedReplays ? ` (${failedReplays} failed)` : ''}`,
          ],
          ['Errors', report.errors.length + report.unlisted.errors],
        ].map(([label, value]) => (
          <div key={label}>
            <dt className="text-sm text-muted">{label}</dt>
            <dd className="mt-1 text-xl font-semibold">{value}</dd>
          </div>
        ))}
      </dl>
      {report.repaired.length > 0 && (
        <DataTable
          caption="Subscriptions repaired to match Stripe"
          columns={['Customer', 'Organization', 'Changed']}
        >
          {report.repaired.map((repair) => (
            <tr key={repair.customerId}>
              <td className={`${cell} font-mono text-xs`}>{repair.customerId}</td>
              <td className={`${cell} font-mono text-xs`}>{repair.organizationId ?? repair.userId}</td>
              <td className={cell}>
                {repair.before ? changes(repair.before, repair.after) : 'Recorded for the first time'}
              </td>
            </tr>
          ))}
        </DataTable>
      )}
      {report.errors.length > 0 && (
        <Alert tone="danger" title="What could not be checked (the next run tries again)">
          <ul className="list-disc pl-5">
            {report.errors.map((error, index) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: a report's errors never reorder
              <li key={index}>
                {error.customerId ?? error.eventId ?? ''} {error.message}
              </li>
            ))}
          </ul>
        </Alert>
      )}
    </div>
  );
}

/** The last reconciliations with Stripe, the latest report in full, and a button to run one now. */
export default function ReconciliationPage() {
  const queryClient = useQueryClient();
  const query = useQuery({ queryKey: ['admin', 'reconciliation'], queryFn: adminApi.reconciliation });
  const run = useMutation({
    mutationFn: adminApi.runReconciliation,
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ['admin', 'reconciliation'] });
      void queryClient.invalidateQueries({ queryKey: ['admin', 'audit'] });
    },
  });
  const runs = query.data?.runs ?? [];
  const latest = runs[0];

  return (
    <div className="space-y-6">
      <div className="flex flex-wrap items-end justify-between gap-4">
        <div>
          <PageTitle>Reconciliation</PageTitle>
          <p className="mt-1 text-muted">
            Every customer's subscription checked against Stripe, drift repaired through the same sync
            webhooks use, and old unprocessed events replayed. It runs on a schedule; run it now after an
            incident.
          </p>
        </div>
        <Button loading={run.isPending} onClick={() => run.mutate()}>
          Run now
        </Button>
      </div>
      {run.isSuccess && (
        <Alert tone="success">
          Queued. The report appears here when the run finishes; refresh to see it.
        </Alert>
      )}
      {run.isError && (
        <Alert tone="danger" title="The run was not started">
          {errorMessage(run.error)}
        </Alert>
      )}
      {query.isPending ? (
        <LoadingState label="Loading reports…" />
      ) : query.isError ? (
        <ErrorState
          error={query.error}
          onRetry={() => void query.refetch()}
          title="We could not load reports"
        />
      ) : !latest ? (
        <EmptyState title="No reconciliation has run yet" />
      ) : (
        <>
          <Card title={`Latest run: ${formatDateTime(latest.startedAt)}`}>
            <LatestReport run={latest} />
          </Card>
          <Card title="Recent runs">
            <DataTable
              caption="Recent reconciliations, newest first"
              columns={['Started', 'Trigger', 'Status', 'Repaired', 'Errors']}
            >
              {runs.map((item) => (
                <tr key={item.id}>
                  <td className={cell}>{formatDateTime(item.startedAt)}</td>
                  <td className={cell}>{triggerLabels[item.trigger]}</td>
                  <td className={cell}>
                    <Pill tone={statusTones[item.status]}>{statusLabels[item.status]}</Pill>
                  </td>
                  <td className={cell}>
                    {item.report ? item.report.repaired.length + item.report.unlisted.repaired : '—'}
                  </td>
                  <td className={cell}>
                    {item.report ? item.report.errors.length + item.report.unlisted.errors : '—'}
                  </td>
                </tr>
              ))}
            </DataTable>
          </Card>
        </>
      )}
    </div>
  );
}
