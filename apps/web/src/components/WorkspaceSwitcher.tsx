import { useEffect, useId, useRef, useState } from 'react';
import { Link, useLocation } from 'react-router';
import { useActivateWorkspace, useOrganizations, useWorkspace } from '../hooks/useWorkspaces.ts';
import { errorMessage } from '../lib/errors.ts';
import { roleLabel } from '../lib/roles.ts';
import { Spinner } from './States.tsx';

/**
 * The active workspace in the top bar, opening (a disclosure, not an ARIA menu: plain buttons and
 * a link, reached with Tab) the list of the caller's workspaces to switch between.
 */
export function WorkspaceSwitcher() {
  const { workspace } = useWorkspace();
  const activate = useActivateWorkspace();
  const location = useLocation();
  const [open, setOpen] = useState(false);
  // The profile names the active workspace; the list is read when the switcher opens.
  const organizations = useOrganizations({ enabled: open });
  const panelId = useId();
  const headingId = useId();
  const rootRef = useRef<HTMLDivElement>(null);
  const toggleRef = useRef<HTMLButtonElement>(null);

  // biome-ignore lint/correctness/useExhaustiveDependencies: closes on navigation only
  useEffect(() => setOpen(false), [location.pathname]);

  // Escape closes it and gives focus back to the toggle; a click or tap elsewhere closes it.
  useEffect(() => {
    if (!open) return;
    const onKey = (event: KeyboardEvent) => {
      if (event.key !== 'Escape') return;
      setOpen(false);
      toggleRef.current?.focus();
    };
    const onPointer = (event: PointerEvent) => {
      if (!rootRef.current?.contains(event.target as Node)) setOpen(false);
    };
    document.addEventListener('keydown', onKey);
    document.addEventListener('pointerdown', onPointer);
    return () => {
      document.removeEventListener('keydown', onKey);
      document.removeEventListener('pointerdown', onPointer);
    };
  }, [open]);

  // A personal workspace carries its owner's name, which the bar already shows beside the switcher:
  // the switcher says which kind of workspace is active, not whose.
  const name = !workspace ? 'Workspace' : workspace.personal ? 'Personal' : workspace.name;

  const choose = (id: string, isActive: boolean) => {
    if (isActive) {
      setOpen(false);
      toggleRef.current?.focus();
      return;
    }
    activate.mutate(id, {
      onSuccess: () => {
        setOpen(false);
        toggleRef.current?.focus();
      },
    });
  };

  return (
    <div ref={rootRef} className="relative w-full lg:w-auto">
      <button
        ref={toggleRef}
        type="button"
        aria-expanded={open}
        aria-controls={panelId}
        onClick={() => {
          setOpen((value) => !value);
          activate.reset();
        }}
        className="inline-flex min-h-10 max-w-full items-center gap-2 rounded-lg border border-line-strong bg-surface px-3 py-2 text-sm font-semibold hover:bg-raised"
      >
        <span className="sr-only">Workspace: </span>
        <span className="max-w-44 truncate lg:max-xl:max-w-32">{name}</span>
        {workspace && !workspace.personal && (
          <span className="rounded bg-raised px-1.5 py-0.5 text-xs font-medium text-muted">Team</span>
        )}
        <svg
          className="size-4 shrink-0 text-muted"
          viewBox="0 0 20 20"
          fill="currentColor"
          aria-hidden="true"
        >
          <path d="M5.3 7.3a1 1 0 0 1 1.4 0L10 10.6l3.3-3.3a1 1 0 1 1 1.4 1.4l-4 4a1 1 0 0 1-1.4 0l-4-4a1 1 0 0 1 0-1.4Z" />
        </svg>
      </button>
      {open && (
        <div
          id={panelId}
          className="z-30 mt-2 w-full rounded-xl border border-line bg-surface p-2 shadow-lg lg:absolute lg:right-0 lg:w-72"
        >
          <p id={headingId} className="px-2 pt-1 pb-2 text-xs font-semibold text-muted uppercase">
            Switch workspace
          </p>
          {organizations.isPending ? (
            <p role="status" className="flex items-center gap-2 px-2 py-2 text-sm text-muted">
              <Spinner className="size-4" /> Loading workspaces…
            </p>
          ) : organizations.isError ? (
            <p role="alert" className="px-2 py-2 text-sm text-danger">
              {errorMessage(organizations.error)}
            </p>
          ) : (
            <ul aria-labelledby={headingId} className="space-y-1">
              {organizations.data.map((organization) => {
                const switching = activate.isPending && activate.variables === organization.id;
                return (
                  <li key={organization.id}>
                    <button
                      type="button"
                      aria-current={organization.active ? 'true' : undefined}
                      disabled={activate.isPending}
                      aria-busy={switching || undefined}
                      onClick={() => choose(organization.id, organization.active)}
                      className={`flex w-full items-center justify-between gap-3 rounded-lg px-2 py-2 text-left text-sm hover:bg-raised disabled:opacity-60 ${
                        organization.active ? 'bg-raised' : ''
                      }`}
                    >
                      <span className="min-w-0">
                        <span className="block truncate font-medium">{organization.name}</span>
                        <span className="block text-xs text-muted">
                          {organization.personal
                            ? 'Personal'
                            : `Team · ${roleLabel[organization.role]} · ${organization.memberCount} member${organization.memberCount === 1 ? '' : 's'}`}
                        </span>
                      </span>
                      {switching ? (
                        <Spinner className="size-4 shrink-0" />
                      ) : organization.active ? (
                        <svg
                          className="size-4 shrink-0 text-brand"
                          viewBox="0 0 20 20"
                          fill="currentColor"
                          aria-hidden="true"
                        >
                          <path
                            fillRule="evenodd"
                            d="M16.7 5.3a1 1 0 0 1 0 1.4l-8 8a1 1 0 0 1-1.4 0l-4-4a1 1 0 1 1 1.4-1.4L8 12.6l7.3-7.3a1 1 0 0 1 1.4 0Z"
                            clipRule="evenodd"
                          />
                        </svg>
                      ) : null}
                      {organization.active && <span className="sr-only"> (active)</span>}
                    </button>
                  </li>
                );
              })}
            </ul>
          )}
          {activate.isError && (
            <p role="alert" className="px-2 py-2 text-sm text-danger">
              {errorMessage(activate.error)}
            </p>
          )}
          <div className="mt-2 border-t border-line pt-2">
            <Link
              to="/organizations"
              className="block rounded-lg px-2 py-2 text-sm font-semibold text-brand-fg hover:bg-raised"
            >
              Manage workspaces and teams
            </Link>
          </div>
        </div>
      )}
    </div>
  );
}
