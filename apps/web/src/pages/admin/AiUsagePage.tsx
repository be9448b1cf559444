import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router';
import { Card } from '../../components/Card.tsx';
import { Field } from '../../components/Field.tsx';
import { PageTitle } from '../../components/PageTitle.tsx';
import { EmptyState, ErrorState, LoadingState } from '../../components/States.tsx';
import { adminApi } from './adminApi.ts';
import { cell, DataTable } from './ui.tsx';

const number = (value: number) => new Intl.NumberFormat().format(value);

function currentMonth(): string {
  const now = new Date();
  return `${now.getUTCFullYear()}-${String(now.getUTCMonth() + 1).padStart(2, '0')}`;
}

export default function AiUsagePage() {
  const [month, setMonth] = useState(currentMonth);
  const valid = /^\d{4}-(0[1-9]|1[0-2])$/.test(month);
  const query = useQuery({
    queryKey: ['admin', 'ai-usage', month],
    queryFn: () => adminApi.aiUsage(month),
    enabled: valid,
  });
  const usage = query.data;

  return (
    <div className="space-y-6">
      <div>
        <PageTitle>AI usage</PageTitle>
        <p className="mt-1 text-muted">
          AI calls and tokens per user in a calendar month (UTC), the heaviest first.
        </p>
      </div>
      <Card>
        <Field
          label="Month"
          type="month"
          className="max-w-xs"
          value={month}
          onChange={(event) => setMonth(event.target.value)}
          error={valid ? undefined : 'Choose a month.'}
        />
      </Card>
      {!valid ? null : query.isPending ? (
        <LoadingState label="Loading AI usage…" />
      ) : query.isError ? (
        <ErrorState
          error={query.error}
          onRetry={() => void query.refetch()}
          title="We could not load AI usage"
        />
      ) : usage ? (
        <>
          <Card title="Totals">
            <dl className="grid grid-cols-2 gap-4 sm:grid-cols-4">
              {[
                ['Users', usage.totals.users],
                ['Requests', usage.totals.requests],
                ['Failed requests', usage.totals.failed],
                ['Tokens', usage.totals.totalTokens],
              ].map(([label, value]) => (
                <div key={label} className="rounded-xl bg-raised p-4">
                  <dt className="text-sm text-muted">{label}</dt>
                  <dd className="mt-1 text-2xl font-bold">{number(Number(value))}</dd>
                </div>
              ))}
            </dl>
          </Card>
          <Card title="Per user">
            {usage.users.length === 0 ? (
              <EmptyState title="No AI calls this month" />
            ) : (
              <DataTable
                caption="AI usage per user, most tokens first"
                columns={['User', 'Requests', 'Failed', 'Prompt tokens', 'Completion tokens', 'Total tokens']}
              >
                {usage.users.map((row) => (
                  <tr key={row.userId}>
                    <td className={`${cell} break-all`}>
                      <Link to={`/admin/users/${encodeURIComponent(row.userId)}`} className="underline">
                        {row.email}
                      </Link>
                    </td>
                    <td className={cell}>{number(row.requests)}</td>
                    <td className={cell}>{number(row.failed)}</td>
                    <td className={cell}>{number(row.promptTokens)}</td>
                    <td className={cell}>{number(row.completionTokens)}</td>
                    <td className={`${cell} font-semibold`}>{number(row.totalTokens)}</td>
                  </tr>
                ))}
              </DataTable>
            )}
          </Card>
        </>
      ) : null}
    </div>
  );
}
