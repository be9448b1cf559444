import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { AdminUserDetail } from '@tierbase/contracts';
import { type ReactNode, useState } from 'react';
import { Link, useParams } from 'react-router';
import { Alert } from '../../components/Alert.tsx';
import { Button } from '../../components/Button.tsx';
import { Card } from '../../components/Card.tsx';
import { PageTitle } from '../../components/PageTitle.tsx';
import { ErrorState, LoadingState } from '../../components/States.tsx';
import { StatusBadge } from '../../components/StatusBadge.tsx';
import { useAuth } from '../../hooks/useAuth.ts';
import { errorMessage } from '../../lib/errors.ts';
import { formatDate } from '../../lib/format.ts';
import { roleLabel } from '../../lib/roles.ts';
import { adminApi, type UserAction } from './adminApi.ts';
import { cell, DataTable, formatDateTime, Pill } from './ui.tsx';

const done: Record<UserAction, string> = {
  deactivate: 'Account deactivated: every session has ended and sign-in is refused.',
  reactivate: 'Account reactivated: the user can sign in again.',
  'make-staff': 'Staff access granted.',
  'revoke-staff': 'Staff access revoked.',
  'sync-subscription': 'Subscription re-read from Stripe.',
};

export default function UserDetailPage() {
  const { userId = '' } = useParams();
  const { currentUser } = useAuth();
  const queryClient = useQueryClient();
  const query = useQuery({ queryKey: ['admin', 'user', userId], queryFn: () => adminApi.user(userId) });
  const [confirming, setConfirming] = useState(false);
  const action = useMutation({
    mutationFn: (which: UserAction) => adminApi.userAction(userId, which),
    onSuccess: (user) => {
      queryClient.setQueryData(['admin', 'user', userId], user);
      void queryClient.invalidateQueries({ queryKey: ['admin', 'users'] });
      void queryClient.invalidateQueries({ queryKey: ['admin', 'audit'] });
      setConfirming(false);
    },
  });

  if (query.isPending) return <LoadingState label="Loading the user…" />;
  if (query.isError) {
    return (
      <ErrorState
        error={query.error}
        onRetry={() => void query.refetch()}
        title="We could not load this user"
      />
    );
  }
  const user = query.data;
  const self = currentUser?.id === user.id;

  return (
    <div className="space-y-6">
      <div>
        <p className="text-sm">
          <Link to="/admin" className="text-muted underline">
            ← All users
          </Link>
        </p>
        <PageTitle className="mt-2 break-all" title={`User ${user.email}`}>
          {user.email}
        </PageTitle>
        <p className="mt-1 text-muted">{user.name || 'No name given'}</p>
      </div>

      {action.isSuccess && <Alert tone="success">{done[action.variables]}</Alert>}
      {action.isError && (
        <Alert tone="danger" title="That did not work">
          {errorMessage(action.error)}
        </Alert>
      )}

      <Card title="Account">
        <dl className="divide-y divide-line">
          <Row term="Access">
            {user.deactivatedAt ? (
              <Pill tone="danger">Deactivated {formatDateTime(user.deactivatedAt)}</Pill>
            ) : (
              <Pill tone="ok">Active</Pill>
            )}
          </Row>
          <Row term="Staff">{user.isStaff ? 'Yes' : 'No'}</Row>
          <Row term="Email verified">{user.emailVerified ? 'Yes' : 'No'}</Row>
          <Row term="Signed-in sessions">{user.activeSessions}</Row>
          <Row term="Joined">{formatDate(user.createdAt)}</Row>
          <Row term="User id">
            <span className="font-mono text-xs break-all">{user.id}</span>
          </Row>
        </dl>
        {self ? (
          <p className="mt-4 text-sm text-muted">
            This is your own account: another staff member has to change its access.
          </p>
        ) : (
          <AccessActions
            user={user}
            confirming={confirming}
            setConfirming={setConfirming}
            pending={action.isPending ? action.variables : null}
            run={(which) => action.mutate(which)}
          />
        )}
      </Card>

      <SubscriptionCard
        user={user}
        syncing={action.isPending && action.variables === 'sync-subscription'}
        onSync={() => action.mutate('sync-subscription')}
      />

      <OrganizationsCard organizations={user.organizations} />
    </div>
  );
}

function Row({ term, children }: { term: string; children: ReactNode }) {
  return (
    <div className="flex flex-col gap-1 py-3 sm:flex-row sm:justify-between sm:gap-6">
      <dt className="text-sm text-muted">{term}</dt>
      <dd className="font-medium sm:text-right">{children}</dd>
    </div>
  );
}

function AccessActions({
  user,
  confirming,
  setConfirming,
  pending,
  run,
}: {
  user: AdminUserDetail;
  confirming: boolean;
  setConfirming: (value: boolean) => void;
  pending: UserAction | null;
  run: (action: UserAction) => void;
}) {
  if (confirming) {
    return (
      <div className="mt-4 rounded-xl border border-danger/40 bg-danger-soft p-4">
        <p className="font-semibold">Deactivate {user.email}?</p>
        <p className="mt-1 text-sm">
          Their sessions end now and they cannot sign in until reactivated. Their subscription is not touched.
        </p>
        <div className="mt-3 flex flex-wrap gap-3">
          <Button variant="danger" loading={pending === 'deactivate'} onClick={() => run('deactivate')}>
            Yes, deactivate
          </Button>
          <Button variant="secondary" onClick={() => setConfirming(false)}>
            Cancel
          </Button>
        </div>
      </div>
    );
  }
  return (
    <div className="mt-4 flex flex-wrap gap-3">
      {user.deactivatedAt ? (
        <Button loading={pending === 'reactivate'} onClick={() => run('reactivate')}>
          Reactivate account
        </Button>
      ) : (
        <Button variant="danger" onClick={() => setConfirming(true)}>
          Deactivate account
        </Button>
      )}
      {user.isStaff ? (
        <Button variant="secondary" loading={pending === 'revoke-staff'} onClick={() => run('revoke-staff')}>
          Revoke staff access
        </Button>
      ) : (
        <Button variant="secondary" loading={pending === 'make-staff'} onClick={() => run('make-staff')}>
          Make staff
        </Button>
      )}
    </div>
  );
}

function SubscriptionCard({
  user,
  syncing,
  onSync,
}: {
  user: AdminUserDetail;
  syncing: boolean;
  onSync: () => void;
}) {
  const subscription = user.subscription;
  return (
    <Card
      title="Subscription"
      description={
        subscription
          ? 'As last written from Stripe. Sync to re-read it now.'
          : 'No Stripe customer yet: this user never opened Checkout.'
      }
    >
      {subscription && (
        <>
          <dl className="divide-y divide-line">
            <Row term="Status">
              <StatusBadge status={subscription.status} />
            </Row>
            <Row term="Plan">
              {subscription.plan ?? '—'}
              {subscription.interval ? ` · ${subscription.interval === 'year' ? 'Yearly' : 'Monthly'}` : ''}
            </Row>
            <Row term="Current period ends">{formatDate(subscription.currentPeriodEnd)}</Row>
            <Row term="Cancels at period end">{subscription.cancelAtPeriodEnd ? 'Yes' : 'No'}</Row>
            {subscription.trialEnd && <Row term="Trial ends">{formatDate(subscription.trialEnd)}</Row>}
            {subscription.pastDueSince && (
              <Row term="Past due since">{formatDate(subscription.pastDueSince)}</Row>
            )}
            <Row term="Stripe customer">
              <span className="font-mono text-xs break-all">{subscription.stripeCustomerId}</span>
            </Row>
            <Row term="Stripe subscription">
              <span className="font-mono text-xs break-all">{subscription.stripeSubscriptionId ?? '—'}</span>
            </Row>
            <Row term="Last written">{formatDateTime(subscription.updatedAt)}</Row>
          </dl>
          <div className="mt-4">
            <Button variant="secondary" loading={syncing} onClick={onSync}>
              {syncing ? 'Syncing from Stripe…' : 'Sync from Stripe now'}
            </Button>
          </div>
        </>
      )}
    </Card>
  );
}

function OrganizationsCard({ organizations }: { organizations: AdminUserDetail['organizations'] }) {
  return (
    <Card
      title="Organizations"
      description="Personal workspace first, then teams. Each has its own subscription; the one above is the personal workspace's."
    >
      {organizations.length === 0 ? (
        <p className="text-sm text-muted">This user belongs to no organization.</p>
      ) : (
        <DataTable
          caption="Organizations this user belongs to"
          columns={['Name', 'Kind', 'Role', 'Members', 'Plan']}
        >
          {organizations.map((organization) => (
            <tr key={organization.id}>
              <td className={`${cell} font-medium break-words`}>{organization.name}</td>
              <td className={cell}>{organization.personal ? 'Personal' : 'Team'}</td>
              <td className={cell}>{roleLabel[organization.role]}</td>
              <td className={cell}>{organization.memberCount}</td>
              <td className={cell}>
                <StatusBadge status={organization.subscription?.status ?? null} />
                {organization.subscription?.plan && ` ${organization.subscription.plan}`}
                {/* Seats follow a team's members: a difference is worth a look. */}
                {!organization.personal && organization.subscription?.quantity != null && (
                  <span className="text-muted">{` · ${seats(organization.subscription.quantity)}`}</span>
                )}
              </td>
            </tr>
          ))}
        </DataTable>
      )}
    </Card>
  );
}

const seats = (count: number) => `${count} seat${count === 1 ? '' : 's'}`;
