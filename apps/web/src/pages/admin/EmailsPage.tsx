import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Alert } from '../../components/Alert.tsx';
import { Button } from '../../components/Button.tsx';
import { Card } from '../../components/Card.tsx';
import { PageTitle } from '../../components/PageTitle.tsx';
import { EmptyState, ErrorState, LoadingState } from '../../components/States.tsx';
import { errorMessage } from '../../lib/errors.ts';
import { adminApi, type EmailStatus } from './adminApi.ts';
import { cell, DataTable, formatDateTime, Pill, Select } from './ui.tsx';

const tones = { queued: 'warn', sent: 'ok', stored: 'muted', failed: 'danger' } as const;
const labels = { queued: 'Queued', sent: 'Sent', stored: 'Stored', failed: 'Failed' } as const;

export default function EmailsPage() {
  const [status, setStatus] = useState<EmailStatus | ''>('failed');
  const queryClient = useQueryClient();
  const query = useQuery({ queryKey: ['admin', 'emails', status], queryFn: () => adminApi.emails(status) });
  const retry = useMutation({
    mutationFn: (id: string) => adminApi.retryEmail(id),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ['admin', 'emails'] });
      void queryClient.invalidateQueries({ queryKey: ['admin', 'audit'] });
    },
  });
  const emails = query.data?.emails ?? [];

  return (
    <div className="space-y-6">
      <div>
        <PageTitle>Email outbox</PageTitle>
        <p className="mt-1 text-muted">
          Every email the app sent, newest first. A failed one can be queued again.
        </p>
      </div>
      {retry.isSuccess && <Alert tone="success">Queued for delivery again.</Alert>}
      {retry.isError && (
        <Alert tone="danger" title="The email was not queued">
          {errorMessage(retry.error)}
        </Alert>
      )}
      <Card>
        <Select
          label="Show"
          className="max-w-xs"
          value={status}
          onChange={(event) => setStatus(event.target.value as EmailStatus | '')}
        >
          <option value="failed">Failed emails</option>
          <option value="queued">Queued emails</option>
          <option value="sent">Sent emails</option>
          <option value="stored">Stored emails (no SMTP)</option>
          <option value="">All emails</option>
        </Select>
      </Card>
      <Card title="Emails">
        {query.isPending ? (
          <LoadingState label="Loading emails…" />
        ) : query.isError ? (
          <ErrorState
            error={query.error}
            onRetry={() => void query.refetch()}
            title="We could not load emails"
          />
        ) : emails.length === 0 ? (
          <EmptyState title={status === 'failed' ? 'No failed emails' : 'No emails'} />
        ) : (
          <DataTable
            caption="Outbox emails, newest first"
            columns={[
              'To',
              'Subject',
              'Status',
              'Attempts',
              'Created',
              <span key="a" className="sr-only">
                Actions
              </span>,
            ]}
          >
            {emails.map((email) => (
              <tr key={email.id}>
                <td className={`${cell} break-all`}>{email.to}</td>
                <td className={cell}>
                  {email.subject}
                  <p className="mt-1 font-mono text-xs text-muted">{email.template}</p>
                </td>
                <td className={cell}>
                  <Pill tone={tones[email.status]}>{labels[email.status]}</Pill>
                  {email.lastError && <p className="mt-1 text-xs text-danger">{email.lastError}</p>}
                </td>
                <td className={cell}>{email.attempts}</td>
                <td className={cell}>{formatDateTime(email.createdAt)}</td>
                <td className={`${cell} text-right`}>
                  {email.status === 'failed' && (
                    <Button
                      variant="secondary"
                      loading={retry.isPending && retry.variables === email.id}
                      onClick={() => retry.mutate(email.id)}
                      aria-label={`Retry the email to ${email.to}: ${email.subject}`}
                    >
                      Retry
                    </Button>
                  )}
                </td>
              </tr>
            ))}
          </DataTable>
        )}
      </Card>
    </div>
  );
}
