import { organizationCreateRequest } from '@tierbase/contracts';
import { Link, useLocation, useNavigate } from 'react-router';
import { api } from '../api.ts';
import { Alert } from '../components/Alert.tsx';
import { FormError } from '../components/AuthShell.tsx';
import { Button } from '../components/Button.tsx';
import { Card } from '../components/Card.tsx';
import { Field } from '../components/Field.tsx';
import { PageTitle } from '../components/PageTitle.tsx';
import { ErrorState, LoadingState } from '../components/States.tsx';
import { useApiForm } from '../hooks/useApiForm.ts';
import { useActivateWorkspace, useOrganizations, useRefreshWorkspace } from '../hooks/useWorkspaces.ts';
import { errorMessage } from '../lib/errors.ts';
import { roleLabel } from '../lib/roles.ts';

export default function OrganizationsPage() {
  const organizations = useOrganizations();
  const activate = useActivateWorkspace();
  const location = useLocation();
  // Set by the team page after leaving or deleting a team.
  const notice = (location.state as { notice?: string } | null)?.notice;

  return (
    <div className="mx-auto max-w-3xl space-y-8">
      <div>
        <PageTitle>Workspaces</PageTitle>
        <p className="mt-1 text-muted">
          Your personal workspace and your teams. The active one decides which plan, billing and AI usage you
          see; switch here or from the top bar.
        </p>
      </div>

      {notice && <Alert tone="success">{notice}</Alert>}
      {activate.isError && (
        <Alert tone="danger" title="We could not switch workspace">
          {errorMessage(activate.error)}
        </Alert>
      )}

      <Card title="Your workspaces">
        {organizations.isPending ? (
          <LoadingState label="Loading your workspaces…" />
        ) : organizations.isError ? (
          <ErrorState
            error={organizations.error}
            onRetry={() => void organizations.refetch()}
            title="We could not load your workspaces"
          />
        ) : (
          <ul className="divide-y divide-line">
            {organizations.data.map((organization) => (
              <li
                key={organization.id}
                className="flex flex-col gap-3 py-4 sm:flex-row sm:items-center sm:justify-between"
              >
                <div className="min-w-0">
                  <p className="flex flex-wrap items-center gap-2 font-medium">
                    <Link
                      to={`/organizations/${encodeURIComponent(organization.id)}`}
                      className="break-words text-brand-fg underline-offset-4 hover:underline"
                    >
                      {organization.name}
                    </Link>
                    {organization.active && (
                      <span className="rounded-full bg-brand px-2 py-0.5 text-xs font-semibold text-on-brand">
                        Active
                      </span>
                    )}
                  </p>
                  <p className="text-sm text-muted">
                    {organization.personal
                      ? 'Personal · only you'
                      : `Team · ${roleLabel[organization.role]} · ${organization.memberCount} member${organization.memberCount === 1 ? '' : 's'}`}
                  </p>
                </div>
                {!organization.active && (
                  <Button
                    variant="secondary"
                    loading={activate.isPending && activate.variables === organization.id}
                    disabled={activate.isPending}
                    onClick={() => activate.mutate(organization.id)}
                  >
                    Switch to it<span className="sr-only"> ({organization.name})</span>
                  </Button>
                )}
              </li>
            ))}
          </ul>
        )}
      </Card>

      <CreateTeamCard />
    </div>
  );
}

function CreateTeamCard() {
  const navigate = useNavigate();
  const refresh = useRefreshWorkspace();
  const form = useApiForm({
    initial: { name: '' },
    schema: organizationCreateRequest,
    submit: ({ name }) => api.createOrganization(name),
    // The new team is the active workspace now: everything is re-read for it.
    onSuccess: async ({ organization }) => {
      await refresh();
      navigate(`/organizations/${encodeURIComponent(organization.id)}`);
    },
    resetOnChange: true,
  });
  const { mutation } = form;
  return (
    <Card
      title="Create a team"
      description="A team has its own members and its own subscription, billed per member. You become its owner and it becomes your active workspace."
    >
      <form onSubmit={form.onSubmit} noValidate className="space-y-4">
        <FormError message={form.errors.name ? null : form.formError} />
        <Field
          label="Team name"
          autoComplete="organization"
          required
          maxLength={100}
          {...form.field('name')}
          name="teamName"
        />
        <Button type="submit" loading={mutation.isPending} disabled={form.values.name.trim() === ''}>
          {mutation.isPending ? 'Creating…' : 'Create team'}
        </Button>
      </form>
    </Card>
  );
}
