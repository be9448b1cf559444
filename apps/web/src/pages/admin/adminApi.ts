import type {
  AdminAiUsage,
  AdminAuditResponse,
  AdminEmailsResponse,
  AdminReconciliationResponse,
  AdminReconciliationRunResponse,
  AdminReplayResponse,
  AdminUserDetail,
  AdminUsersResponse,
  AdminWebhookEventDetail,
  AdminWebhookEventsResponse,
} from '@tierbase/contracts';
import { request } from '../../api.ts';

/** The staff-only endpoints under /api/admin/, typed by the contracts. */

export type UserAction = 'deactivate' | 'reactivate' | 'make-staff' | 'revoke-staff' | 'sync-subscription';
export type EventStatus = 'processed' | 'failed' | 'pending';
export type EmailStatus = 'queued' | 'sent' | 'stored' | 'failed';

function query(params: Record<string, string | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value) search.set(key, value);
  const text = search.toString();
  return text ? `?${text}` : '';
}

const id = (value: string) => encodeURIComponent(value);

export const adminApi = {
  users: (search: string, cursor?: string) =>
    request<AdminUsersResponse>('GET', `/api/admin/users/${query({ search, cursor })}`),
  user: (userId: string) => request<AdminUserDetail>('GET', `/api/admin/users/${id(userId)}/`),
  userAction: (userId: string, action: UserAction) =>
    request<AdminUserDetail>('POST', `/api/admin/users/${id(userId)}/${action}/`),
  webhookEvents: (filters: { type?: string; status?: EventStatus | '' }, cursor?: string) =>
    request<AdminWebhookEventsResponse>(
      'GET',
      `/api/admin/webhook-events/${query({ type: filters.type, status: filters.status || undefined, cursor })}`,
    ),
  webhookEvent: (eventId: string) =>
    request<AdminWebhookEventDetail>('GET', `/api/admin/webhook-events/${id(eventId)}/`),
  replay: (eventId: string) =>
    request<AdminReplayResponse>('POST', `/api/admin/webhook-events/${id(eventId)}/replay/`),
  emails: (status: EmailStatus | '') =>
    request<AdminEmailsResponse>(
      'GET',
      `/api/admin/emails/${query({ status: status || undefined, limit: '100' })}`,
    ),
  retryEmail: (emailId: string) =>
    request<{ id: string; status: 'queued' }>('POST', `/api/admin/emails/${id(emailId)}/retry/`),
  aiUsage: (month: string) => request<AdminAiUsage>('GET', `/api/admin/ai-usage/${query({ month })}`),
  reconciliation: () =>
    request<AdminReconciliationResponse>('GET', `/api/admin/reconciliation/${query({ limit: '10' })}`),
  runReconciliation: () => request<AdminReconciliationRunResponse>('POST', '/api/admin/reconciliation/run/'),
  audit: (cursor?: string) => request<AdminAuditResponse>('GET', `/api/admin/audit-log/${query({ cursor })}`),
};
