import { useEffect, useState } from 'react';
import { Link, NavLink, useLocation, useNavigate } from 'react-router';
import { useAuth } from '../hooks/useAuth.ts';
import { useSubscription } from '../hooks/useSubscription.ts';
import { buttonClass } from './Button.tsx';
import { LogoMark } from './Logo.tsx';
import { WorkspaceSwitcher } from './WorkspaceSwitcher.tsx';

const linkClass = ({ isActive }: { isActive: boolean }) =>
  `rounded-md px-3 py-2 text-sm font-medium ${isActive ? 'bg-raised text-fg' : 'text-muted hover:text-fg hover:bg-raised'}`;

/** The top bar: what a visitor can do, or the signed-in user's pages and plan. */
export function Navigation() {
  const { currentUser, isAuthenticated, isLoading, logout } = useAuth();
  const { isPro } = useSubscription();
  const navigate = useNavigate();
  const location = useLocation();
  const [open, setOpen] = useState(false);
  const [signingOut, setSigningOut] = useState(false);

  // The menu (phones and tablets: the bar holds the links, workspace and account from 1024 px) closes
  // when the page changes.
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs on navigation only
  useEffect(() => setOpen(false), [location.pathname]);

  const signOut = async () => {
    setSigningOut(true);
    // Leave the page first: a login-required page would otherwise send us to sign in again.
    navigate('/');
    try {
      await logout();
    } finally {
      setSigningOut(false);
    }
  };

  const links = isAuthenticated ? (
    <>
      <NavLink to="/" end className={linkClass}>
        Dashboard
      </NavLink>
      <NavLink to="/pro" className={linkClass}>
        Assistant
      </NavLink>
      {!isPro && (
        <NavLink to="/pricing" className={linkClass}>
          Pricing
        </NavLink>
      )}
      <NavLink to="/billing" className={linkClass}>
        Billing
      </NavLink>
      <NavLink to="/settings" className={linkClass}>
        Settings
      </NavLink>
      {currentUser?.isStaff && (
        <NavLink to="/admin" className={linkClass}>
          Admin
        </NavLink>
      )}
    </>
  ) : (
    <NavLink to="/pricing" className={linkClass}>
      Pricing
    </NavLink>
  );

  const account = isAuthenticated ? (
    <>
      <WorkspaceSwitcher />
      <span
        className={`rounded-full px-2.5 py-0.5 text-xs font-semibold ${isPro ? 'bg-brand text-on-brand' : 'bg-raised text-muted'}`}
      >
        <span className="sr-only">Plan: </span>
        {isPro ? 'Pro' : 'Free'}
      </span>
      {/* Under 1280 px the bar has no room for the name too (Settings shows it); the menu does. */}
      <span className="max-w-40 truncate text-sm text-muted lg:max-xl:hidden" title={currentUser?.email}>
        <span className="sr-only">Signed in as </span>
        {currentUser?.name || currentUser?.email}
      </span>
      <button type="button" onClick={signOut} disabled={signingOut} className={buttonClass('secondary')}>
        {signingOut ? 'Signing out…' : 'Sign out'}
      </button>
    </>
  ) : isLoading ? null : (
    <>
      <Link to="/login" className={buttonClass('ghost')}>
        Sign in
      </Link>
      <Link to="/register" className={buttonClass('primary')}>
        Get started
      </Link>
    </>
  );

  return (
    <header className="sticky top-0 z-20 border-b border-line bg-surface/90 backdrop-blur">
      <nav aria-label="Main" className="mx-auto flex h-16 max-w-6xl items-center gap-4 px-4 sm:px-6">
        <Link to="/" className="flex items-center gap-2 text-lg font-bold tracking-tight">
          <LogoMark />
          <span>Tierbase</span>
        </Link>
        <div className="hidden flex-1 items-center gap-1 lg:flex">{links}</div>
        <div className="hidden items-center gap-3 lg:flex">{account}</div>
        <button
          type="button"
          className={`${buttonClass('ghost')} ml-auto lg:hidden`}
          aria-expanded={open}
          aria-controls="mobile-menu"
          onClick={() => setOpen((value) => !value)}
        >
          <svg className="size-5" viewBox="0 0 20 20" fill="currentColor" aria-hidden="true">
            {open ? (
              <path d="M5.3 4.3a1 1 0 0 0-1.4 1.4L8.6 10l-4.7 4.3a1 1 0 1 0 1.4 1.4L10 11.4l4.7 4.3a1 1 0 0 0 1.4-1.4L11.4 10l4.7-4.3a1 1 0 0 0-1.4-1.4L10 8.6 5.3 4.3Z" />
            ) : (
              <path d="M3 5h14a1 1 0 1 0 0-2H3a1 1 0 0 0 0 2Zm14 4H3a1 1 0 0 0 0 2h14a1 1 0 1 0 0-2Zm0 6H3a1 1 0 1 0 0 2h14a1 1 0 1 0 0-2Z" />
            )}
          </svg>
          Menu
        </button>
      </nav>
      {open && (
        <div id="mobile-menu" className="border-t border-line px-4 pb-4 lg:hidden">
          <div className="flex flex-col gap-1 pt-2">{links}</div>
          <div className="mt-3 flex flex-wrap items-center gap-3 border-t border-line pt-3">{account}</div>
        </div>
      )}
    </header>
  );
}
