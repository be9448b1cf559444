import { NavLink, Route, Routes } from 'react-router';
import { useAuth } from '../../hooks/useAuth.ts';
import ForbiddenPage from '../ForbiddenPage.tsx';
import NotFoundPage from '../NotFoundPage.tsx';
import AiUsagePage from './AiUsagePage.tsx';
import AuditLogPage from './AuditLogPage.tsx';
import EmailsPage from './EmailsPage.tsx';
import UserDetailPage from './UserDetailPage.tsx';
import UsersPage from './UsersPage.tsx';
import WebhookEventDetailPage from './WebhookEventDetailPage.tsx';
import WebhookEventsPage from './WebhookEventsPage.tsx';

const sections = [
  { to: '/admin', label: 'Users', end: true },
  { to: '/admin/webhook-events', label: 'Webhook events' },
  { to: '/admin/emails', label: 'Email outbox' },
  { to: '/admin/ai-usage', label: 'AI usage' },
  { to: '/admin/audit-log', label: 'Audit log' },
];

const linkClass = ({ isActive }: { isActive: boolean }) =>
  `whitespace-nowrap rounded-md px-3 py-2 text-sm font-medium ${isActive ? 'bg-raised text-fg' : 'text-muted hover:text-fg hover:bg-raised'}`;

/**
 * The staff console under /admin (one lazy chunk). Signed-in users without the staff flag get the
 * Forbidden page; the server refuses them anyway (403 on every /api/admin/ endpoint).
 */
export default function AdminConsole() {
  const { currentUser } = useAuth();
  if (!currentUser?.isStaff) return <ForbiddenPage />;
  return (
    <div className="space-y-6">
      <nav aria-label="Admin" className="-mx-1 overflow-x-auto border-b border-line pb-2">
        <ul className="flex gap-1 px-1">
          {sections.map((section) => (
            <li key={section.to}>
              <NavLink to={section.to} end={section.end ?? false} className={linkClass}>
                {section.label}
              </NavLink>
            </li>
          ))}
        </ul>
      </nav>
      <Routes>
        <Route index element={<UsersPage />} />
        <Route path="users/:userId" element={<UserDetailPage />} />
        <Route path="webhook-events" element={<WebhookEventsPage />} />
        <Route path="webhook-events/:eventId" element={<WebhookEventDetailPage />} />
        <Route path="emails" element={<EmailsPage />} />
        <Route path="ai-usage" element={<AiUsagePage />} />
        <Route path="audit-log" element={<AuditLogPage />} />
        <Route path="*" element={<NotFoundPage />} />
      </Routes>
    </div>
  );
}
