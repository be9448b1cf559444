import { ADMIN_PAGES, type AdminPageName } from '@tierbase/contracts/pages';
import type { ReactNode } from 'react';
import { NavLink, Route, Routes } from 'react-router';
import { useAuth } from '../../hooks/useAuth.ts';
import ForbiddenPage from '../ForbiddenPage.tsx';
import NotFoundPage from '../NotFoundPage.tsx';
import AiUsagePage from './AiUsagePage.tsx';
import AuditLogPage from './AuditLogPage.tsx';
import EmailsPage from './EmailsPage.tsx';
import ReconciliationPage from './ReconciliationPage.tsx';
import UserDetailPage from './UserDetailPage.tsx';
import UsersPage from './UsersPage.tsx';
import WebhookEventDetailPage from './WebhookEventDetailPage.tsx';
import WebhookEventsPage from './WebhookEventsPage.tsx';

const sections = [
  { to: ADMIN_PAGES.users, label: 'Users', end: true },
  { to: ADMIN_PAGES.webhookEvents, label: 'Webhook events' },
  { to: ADMIN_PAGES.emails, label: 'Email outbox' },
  { to: ADMIN_PAGES.aiUsage, label: 'AI usage' },
  { to: ADMIN_PAGES.reconciliation, label: 'Reconciliation' },
  { to: ADMIN_PAGES.auditLog, label: 'Audit log' },
];

/** Every page of `ADMIN_PAGES`, and only those (the server answers 404 for any other /admin path). */
const pages: Record<AdminPageName, ReactNode> = {
  users: <UsersPage />,
  userDetail: <UserDetailPage />,
  webhookEvents: <WebhookEventsPage />,
  webhookEventDetail: <WebhookEventDetailPage />,
  emails: <EmailsPage />,
  aiUsage: <AiUsagePage />,
  auditLog: <AuditLogPage />,
  reconciliation: <ReconciliationPage />,
};

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
        {(Object.keys(pages) as AdminPageName[]).map((name) => {
          // Relative to /admin/*; the users list is its index.
          const path = ADMIN_PAGES[name].slice('/admin'.length + 1);
          return path ? (
            <Route key={name} path={path} element={pages[name]} />
          ) : (
            <Route key={name} index element={pages[name]} />
          );
        })}
        <Route path="*" element={<NotFoundPage />} />
      </Routes>
    </div>
  );
}
