/**
 * The web app's pages: name → path, in React Router's syntax (`:name` stands for one segment).
 * The SPA builds its router from this list, and the server answers any other path with 404 (still
 * serving the app, which shows its Not Found page), so the two cannot disagree about what exists.
 */
export const PAGES = {
  home: '/',
  login: '/login',
  register: '/register',
  forgotPassword: '/forgot-password',
  resetPassword: '/reset-password',
  verifyEmail: '/verify-email',
  pricing: '/pricing',
  checkoutReturn: '/checkout/return',
  billing: '/billing',
  settings: '/settings',
  pro: '/pro',
  /** The caller's workspaces (personal and teams), and "create a team". */
  organizations: '/organizations',
  organization: '/organizations/:organizationId',
  /** Where an invitation email's link lands (`#token=…`): preview, sign in or up, accept. */
  invitation: '/invitations',
  /** The staff console routes the paths below it itself: `ADMIN_PAGES`. */
  admin: '/admin/*',
  forbidden: '/403',
  serverError: '/500',
} as const;

export type PageName = keyof typeof PAGES;

/** The staff console's pages, below `/admin` (its own router is built from this list). */
export const ADMIN_PAGES = {
  users: '/admin',
  userDetail: '/admin/users/:userId',
  webhookEvents: '/admin/webhook-events',
  webhookEventDetail: '/admin/webhook-events/:eventId',
  emails: '/admin/emails',
  aiUsage: '/admin/ai-usage',
  auditLog: '/admin/audit-log',
  reconciliation: '/admin/reconciliation',
} as const;

export type AdminPageName = keyof typeof ADMIN_PAGES;

/** Every concrete page path of the app: the routers' splats (`/*`) stand for their own lists. */
export const PAGE_PATHS: readonly string[] = [
  ...Object.values(PAGES).filter((path) => !path.endsWith('/*')),
  ...Object.values(ADMIN_PAGES),
];

const segments = (path: string) => path.split('/').filter(Boolean);

/**
 * Whether the router has a page for this pathname, matching as React Router does: case-insensitive,
 * with or without a trailing slash, `:name` matching any one non-empty segment.
 */
export function isPagePath(pathname: string, pages: readonly string[] = PAGE_PATHS): boolean {
  const wanted = segments(pathname.toLowerCase());
  return pages.some((page) => {
    const pattern = segments(page);
    return (
      pattern.length === wanted.length &&
      pattern.every((segment, index) => segment.startsWith(':') || segment.toLowerCase() === wanted[index])
    );
  });
}
