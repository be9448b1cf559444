import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  type AssignableRole,
  invitationCreateRequest,
  type OrganizationDetailResponse,
  type OrganizationMember,
  type OrganizationRole,
  organizationUpdateRequest,
} from '@tierbase/contracts';
import { type ReactNode, useRef, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { api, isApiError } from '../api.ts';
import { FormError } from '../components/AuthShell.tsx';
import { Button, ButtonLink } from '../components/Button.tsx';
import { Card } from '../components/Card.tsx';
import { ActionNotice, ConfirmPanel, type Notice } from '../components/Confirm.tsx';
import { Field } from '../components/Field.tsx';
import { PageTitle } from '../components/PageTitle.tsx';
import { Select } from '../components/Select.tsx';
import { ErrorState, LoadingState } from '../components/States.tsx';
import { useApiForm } from '../hooks/useApiForm.ts';
import { useAuth } from '../hooks/useAuth.ts';
import { organizationKey, useRefreshWorkspace } from '../hooks/useWorkspaces.ts';
import { errorMessage } from '../lib/errors.ts';
import { formatDate } from '../lib/format.ts';
import { roleLabel } from '../lib/roles.ts';

type Detail = OrganizationDetailResponse;

/** What the page says after an action; `ActionNotice` focuses it. */
function useNotice() {
  const [notice, setNotice] = useState<Notice | null>(null);
  const counter = useRef(0);
  const say = (tone: Notice['tone'], text: string, title?: string) => {
    counter.current += 1;
    setNotice({ tone, text, key: counter.current, ...(title ? { title } : {}) });
  };
  return {
    notice,
    success: (text: string) => say('success', text),
    failure: (error: unknown) => say('danger', errorMessage(error), 'That did not work'),
    clear: () => setNotice(null),
  };
}

type Notices = ReturnType<typeof useNotice>;

export default function OrganizationPage() {
  const { organizationId = '' } = useParams();
  const query = useQuery({
    queryKey: organizationKey(organizationId),
    queryFn: () => api.organization(organizationId),
  });
  const notices = useNotice();

  if (query.isPending) return <LoadingState label="Loading the workspace…" />;
  if (query.isError) {
    if (isApiError(query.error) && query.error.code === 'NOT_FOUND') {
      return (
        <div className="mx-auto max-w-3xl space-y-6">
          <PageTitle>Workspace not found</PageTitle>
          <p className="text-muted">
            It does not exist, or you are not a member of it (any more). Your workspaces are listed on the
            workspaces page.
          </p>
          <ButtonLink to="/organizations">See your workspaces</ButtonLink>
        </div>
      );
    }
    return (
      <ErrorState
        error={query.error}
        onRetry={() => void query.refetch()}
        title="We could not load this workspace"
      />
    );
  }

  const detail = query.data;
  const { organization } = detail;
  const manager = organization.role === 'owner' || organization.role === 'admin';
  const team = !organization.personal;

  return (
    <div className="mx-auto max-w-3xl space-y-8">
      <div>
        <p className="text-sm">
          <Link to="/organizations" className="text-muted underline underline-offset-4 hover:text-fg">
            ← All workspaces
          </Link>
        </p>
        <PageTitle className="mt-2 break-words">{organization.name}</PageTitle>
        <p className="mt-1 text-muted">
          {team ? 'Team' : 'Personal workspace'} · you are{' '}
          {organization.role === 'owner' ? 'the owner' : `${article(organization.role)} ${organization.role}`}{' '}
          · created {formatDate(organization.createdAt)}
        </p>
      </div>

      <ActionNotice notice={notices.notice} />

      {!team && (
        <Card title="Your personal workspace">
          <p className="text-sm text-muted">
            Only you belong to it: it cannot be shared, left or deleted. To work with others, create a team;
            each team has its own members and its own subscription.
          </p>
          <ButtonLink to="/organizations" variant="secondary" className="mt-4">
            Create a team
          </ButtonLink>
        </Card>
      )}

      <MembersCard detail={detail} notices={notices} />
      {team && manager && <InviteCard detail={detail} notices={notices} />}
      {team && manager && <InvitationsCard detail={detail} notices={notices} />}
      {team && manager && <RenameCard detail={detail} notices={notices} />}
      {team && organization.role === 'owner' && <TransferCard detail={detail} notices={notices} />}
      {team && organization.role !== 'owner' && <LeaveCard detail={detail} notices={notices} />}
      {team && organization.role === 'owner' && <DeleteCard detail={detail} notices={notices} />}
    </div>
  );
}

function article(role: OrganizationRole): string {
  return role === 'owner' || role === 'admin' ? 'an' : 'a';
}

/** After a change to the members: the detail, the list's counts and the seats billed. */
function useInvalidateOrganization(id: string) {
  const queryClient = useQueryClient();
  return () =>
    Promise.all([
      queryClient.invalidateQueries({ queryKey: ['organizations'] }),
      queryClient.invalidateQueries({ queryKey: ['billing'] }),
      queryClient.invalidateQueries({ queryKey: organizationKey(id) }),
    ]);
}

function seatsLine(detail: Detail): string {
  const { memberCount, seats } = detail.organization;
  const members = `${memberCount} member${memberCount === 1 ? '' : 's'}`;
  if (seats === null) return `${members} · no subscription yet`;
  return `${members} · ${seats} billed seat${seats === 1 ? '' : 's'}`;
}

function MembersCard({ detail, notices }: { detail: Detail; notices: Notices }) {
  const { currentUser } = useAuth();
  const { organization, members } = detail;
  const invalidate = useInvalidateOrganization(organization.id);
  const [removing, setRemoving] = useState<OrganizationMember | null>(null);
  const removeButtons = useRef(new Map<string, HTMLButtonElement>());

  const changeRole = useMutation({
    mutationFn: ({ member, role }: { member: OrganizationMember; role: AssignableRole }) =>
      api.changeMemberRole(organization.id, member.userId, role),
    onSuccess: async (_data, { member, role }) => {
      await invalidate();
      notices.success(`${displayName(member)} is now ${article(role)} ${roleLabel[role].toLowerCase()}.`);
    },
    onError: notices.failure,
  });
  const remove = useMutation({
    mutationFn: (member: OrganizationMember) => api.removeMember(organization.id, member.userId),
    onSuccess: async (_data, member) => {
      setRemoving(null);
      await invalidate();
      notices.success(
        `${displayName(member)} was removed from ${organization.name}. The subscription, if any, drops a seat, prorated.`,
      );
    },
    onError: (error) => {
      setRemoving(null);
      notices.failure(error);
    },
  });

  const myRole = organization.role;
  const canRemove = (member: OrganizationMember) =>
    member.userId !== currentUser?.id &&
    member.role !== 'owner' &&
    (myRole === 'owner' || (myRole === 'admin' && member.role === 'member'));
  const canChangeRole = (member: OrganizationMember) => myRole === 'owner' && member.role !== 'owner';

  return (
    <Card
      title="Members"
      description={
        <>
          <span className="font-medium text-fg">{seatsLine(detail)}</span>
          {!organization.personal && (
            <span className="mt-1 block">
              Every member is a billed seat: when someone joins, is removed or leaves, the subscription's
              quantity changes and Stripe prorates the difference at once: an added seat is charged for the
              rest of the period, a removed one credited.
            </span>
          )}
        </>
      }
    >
      <ul className="divide-y divide-line">
        {members.map((member) => {
          const self = member.userId === currentUser?.id;
          const other: AssignableRole = member.role === 'admin' ? 'member' : 'admin';
          return (
            <li key={member.userId} className="py-4">
              <div className="flex flex-col gap-3 sm:flex-row sm:items-center sm:justify-between">
                <div className="min-w-0">
                  <p className="font-medium break-words">
                    {displayName(member)}
                    {self && <span className="text-muted"> (you)</span>}
                  </p>
                  <p className="text-sm break-all text-muted">{member.email}</p>
                  <p className="mt-1 text-xs text-muted">
                    <RoleBadge role={member.role} /> · joined {formatDate(member.joinedAt)}
                  </p>
                </div>
                <div className="flex flex-wrap gap-2">
                  {canChangeRole(member) && (
                    <Button
                      variant="secondary"
                      loading={changeRole.isPending && changeRole.variables?.member.userId === member.userId}
                      disabled={changeRole.isPending}
                      onClick={() => changeRole.mutate({ member, role: other })}
                    >
                      Make {other}
                      <span className="sr-only"> ({displayName(member)})</span>
                    </Button>
                  )}
                  {canRemove(member) && removing?.userId !== member.userId && (
                    <Button
                      variant="danger"
                      ref={(element: HTMLButtonElement | null) => {
                        if (element) removeButtons.current.set(member.userId, element);
                        else removeButtons.current.delete(member.userId);
                      }}
                      onClick={() => {
                        notices.clear();
                        setRemoving(member);
                      }}
                    >
                      Remove<span className="sr-only"> {displayName(member)}</span>
                    </Button>
                  )}
                </div>
              </div>
              {removing?.userId === member.userId && (
                <div className="mt-3">
                  <ConfirmPanel
                    title={`Remove ${displayName(member)} from ${organization.name}?`}
                    confirmLabel="Yes, remove"
                    pendingLabel="Removing…"
                    pending={remove.isPending}
                    onConfirm={() => remove.mutate(member)}
                    onCancel={() => {
                      setRemoving(null);
                      // The Remove button comes back: give it focus again.
                      requestAnimationFrame(() => removeButtons.current.get(member.userId)?.focus());
                    }}
                  >
                    They lose access to the team's workspace at once. The subscription, if any, is billed for
                    one seat less from now, prorated.
                  </ConfirmPanel>
                </div>
              )}
            </li>
          );
        })}
      </ul>
    </Card>
  );
}

function displayName(member: { name: string; email: string }): string {
  return member.name || member.email;
}

function RoleBadge({ role }: { role: OrganizationRole }) {
  const tones: Record<OrganizationRole, string> = {
    owner: 'bg-brand-soft text-brand-fg',
    admin: 'bg-ok-soft text-ok',
    member: 'bg-raised text-muted',
  };
  return <span className={`rounded-full px-2 py-0.5 font-semibold ${tones[role]}`}>{roleLabel[role]}</span>;
}

function InviteCard({ detail, notices }: { detail: Detail; notices: Notices }) {
  const { organization } = detail;
  const invalidate = useInvalidateOrganization(organization.id);
  const form = useApiForm({
    initial: { email: '', role: 'member' as AssignableRole },
    schema: invitationCreateRequest,
    submit: (body) => api.inviteMember(organization.id, body),
    onSuccess: async ({ invitation }) => {
      await invalidate();
      notices.success(
        `Invitation sent to ${invitation.email}. The link in it works once, for 7 days (until ${formatDate(invitation.expiresAt)}).`,
      );
    },
    clearOnSuccess: true,
    resetOnChange: true,
  });
  const { errors, mutation } = form;
  const alreadyMember = isApiError(mutation.error) && mutation.error.code === 'ALREADY_MEMBER';
  const emailError = errors.email ?? (alreadyMember ? errorMessage(mutation.error) : undefined);
  return (
    <Card
      title="Invite a member"
      description="We email them a link to join. When they accept, the subscription gains a seat, prorated for the rest of the period."
    >
      <form onSubmit={form.onSubmit} noValidate className="space-y-4">
        <FormError message={emailError || errors.role ? null : form.formError} />
        <div className="grid gap-4 sm:grid-cols-[1fr_12rem]">
          <Field
            label="Email address"
            type="email"
            autoComplete="off"
            required
            {...form.field('email')}
            name="inviteEmail"
            error={emailError}
          />
          <Select
            label="Role"
            name="inviteRole"
            value={form.values.role}
            onChange={(event) => form.setValue('role', event.target.value)}
          >
            <option value="member">Member</option>
            <option value="admin">Admin</option>
          </Select>
        </div>
        <p className="text-sm text-muted">
          Admins can invite and remove members and manage billing; members use the team's plan.
        </p>
        <Button type="submit" loading={mutation.isPending}>
          {mutation.isPending ? 'Sending…' : 'Send invitation'}
        </Button>
      </form>
    </Card>
  );
}

function InvitationsCard({ detail, notices }: { detail: Detail; notices: Notices }) {
  const { organization, invitations } = detail;
  const invalidate = useInvalidateOrganization(organization.id);
  const revoke = useMutation({
    mutationFn: (invitation: Detail['invitations'][number]) =>
      api.revokeInvitation(organization.id, invitation.id),
    onSuccess: async (_data, invitation) => {
      await invalidate();
      notices.success(`The invitation to ${invitation.email} was revoked; its link no longer works.`);
    },
    onError: notices.failure,
  });
  return (
    <Card title="Pending invitations">
      {invitations.length === 0 ? (
        <p className="text-sm text-muted">No invitations waiting for an answer.</p>
      ) : (
        <ul className="divide-y divide-line">
          {invitations.map((invitation) => (
            <li
              key={invitation.id}
              className="flex flex-col gap-3 py-3 sm:flex-row sm:items-center sm:justify-between"
            >
              <div className="min-w-0">
                <p className="font-medium break-all">{invitation.email}</p>
                <p className="text-sm text-muted">
                  {roleLabel[invitation.role]} · sent {formatDate(invitation.invitedAt)} · expires{' '}
                  {formatDate(invitation.expiresAt)}
                </p>
              </div>
              <Button
                variant="secondary"
                loading={revoke.isPending && revoke.variables?.id === invitation.id}
                disabled={revoke.isPending}
                onClick={() => revoke.mutate(invitation)}
              >
                Revoke<span className="sr-only"> the invitation to {invitation.email}</span>
              </Button>
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}

function RenameCard({ detail, notices }: { detail: Detail; notices: Notices }) {
  const { organization } = detail;
  const invalidate = useInvalidateOrganization(organization.id);
  const queryClient = useQueryClient();
  const form = useApiForm({
    initial: { name: organization.name },
    schema: organizationUpdateRequest,
    submit: ({ name }) => api.renameOrganization(organization.id, name),
    onSuccess: async () => {
      await Promise.all([invalidate(), queryClient.invalidateQueries({ queryKey: ['profile'] })]);
      notices.success('The team was renamed.');
    },
    resetOnChange: true,
  });
  const { mutation } = form;
  const name = form.values.name.trim();
  return (
    <Card title="Team name">
      <form onSubmit={form.onSubmit} noValidate className="space-y-4">
        <FormError message={form.errors.name ? null : form.formError} />
        <Field label="Name" required maxLength={100} {...form.field('name')} name="organizationName" />
        <Button
          type="submit"
          loading={mutation.isPending}
          disabled={name === organization.name || name === ''}
        >
          {mutation.isPending ? 'Saving…' : 'Rename team'}
        </Button>
      </form>
    </Card>
  );
}

/**
 * A destructive action asked about first: whether the question is open, and the button that
 * opened it, which gets the focus back when the question is cancelled.
 */
function useConfirmation() {
  const [confirming, setConfirming] = useState(false);
  const triggerRef = useRef<HTMLButtonElement>(null);
  const cancel = () => {
    setConfirming(false);
    requestAnimationFrame(() => triggerRef.current?.focus());
  };
  return { confirming, setConfirming, triggerRef, cancel };
}

function TransferCard({ detail, notices }: { detail: Detail; notices: Notices }) {
  const { organization, members } = detail;
  const queryClient = useQueryClient();
  const candidates = members.filter((member) => member.role !== 'owner');
  const [userId, setUserId] = useState('');
  const { confirming, setConfirming, triggerRef, cancel } = useConfirmation();
  const chosen = candidates.find((member) => member.userId === userId) ?? null;
  const mutation = useMutation({
    mutationFn: (member: OrganizationMember) => api.transferOwnership(organization.id, member.userId),
    onSuccess: async (next, member) => {
      setConfirming(false);
      setUserId('');
      queryClient.setQueryData(organizationKey(organization.id), next);
      await Promise.all([
        queryClient.invalidateQueries({ queryKey: ['organizations'] }),
        queryClient.invalidateQueries({ queryKey: ['profile'] }),
      ]);
      notices.success(`${displayName(member)} now owns ${organization.name}. You are an admin.`);
    },
    onError: (error) => {
      setConfirming(false);
      notices.failure(error);
    },
  });

  return (
    <Card
      title="Transfer ownership"
      description="The new owner controls the team and its billing, and can delete it. You stay on as an admin."
    >
      {candidates.length === 0 ? (
        <p className="text-sm text-muted">Invite someone first: ownership goes to an existing member.</p>
      ) : confirming && chosen ? (
        <ConfirmPanel
          title={`Make ${displayName(chosen)} the owner of ${organization.name}?`}
          confirmLabel="Yes, transfer ownership"
          pendingLabel="Transferring…"
          pending={mutation.isPending}
          onConfirm={() => mutation.mutate(chosen)}
          onCancel={cancel}
        >
          You become an admin and cannot take ownership back yourself: only the new owner can transfer it
          again.
        </ConfirmPanel>
      ) : (
        <div className="flex flex-col gap-4 sm:flex-row sm:items-end">
          <Select
            label="New owner"
            name="newOwner"
            className="sm:flex-1"
            value={userId}
            onChange={(event) => setUserId(event.target.value)}
          >
            <option value="">Choose a member…</option>
            {candidates.map((member) => (
              <option key={member.userId} value={member.userId}>
                {displayName(member)} ({member.email})
              </option>
            ))}
          </Select>
          <Button
            ref={triggerRef}
            variant="danger"
            disabled={!chosen}
            onClick={() => {
              notices.clear();
              setConfirming(true);
            }}
          >
            Transfer ownership…
          </Button>
        </div>
      )}
    </Card>
  );
}

/** Leaving or deleting ends this page: back to the list, with the workspace re-read everywhere. */
function useGoneFromOrganization(id: string) {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const refresh = useRefreshWorkspace();
  return async (message: string) => {
    navigate('/organizations', { replace: true, state: { notice: message } });
    queryClient.removeQueries({ queryKey: organizationKey(id) });
    await refresh();
  };
}

function LeaveCard({ detail, notices }: { detail: Detail; notices: Notices }) {
  const { organization } = detail;
  const gone = useGoneFromOrganization(organization.id);
  const { confirming, setConfirming, triggerRef, cancel } = useConfirmation();
  const mutation = useMutation({
    mutationFn: () => api.leaveOrganization(organization.id),
    onSuccess: () => gone(`You left ${organization.name}.`),
    onError: (error) => {
      setConfirming(false);
      notices.failure(error);
    },
  });
  return (
    <Card title="Leave team" description="You lose access to the team's workspace and its plan.">
      {confirming ? (
        <ConfirmPanel
          title={`Leave ${organization.name}?`}
          confirmLabel="Yes, leave"
          pendingLabel="Leaving…"
          pending={mutation.isPending}
          onConfirm={() => mutation.mutate()}
          onCancel={cancel}
        >
          To come back, an owner or admin has to invite you again.
        </ConfirmPanel>
      ) : (
        <Button
          ref={triggerRef}
          variant="danger"
          onClick={() => {
            notices.clear();
            setConfirming(true);
          }}
        >
          Leave team
        </Button>
      )}
    </Card>
  );
}

function DeleteCard({ detail, notices }: { detail: Detail; notices: Notices }) {
  const { organization } = detail;
  const gone = useGoneFromOrganization(organization.id);
  const { confirming, setConfirming, triggerRef, cancel } = useConfirmation();
  const mutation = useMutation({
    mutationFn: () => api.deleteOrganization(organization.id),
    onSuccess: () => gone(`${organization.name} was deleted.`),
    onError: (error) => {
      setConfirming(false);
      notices.failure(error);
    },
  });
  return (
    <Card title="Delete team">
      {confirming ? (
        <ConfirmPanel
          title={`Delete ${organization.name}?`}
          confirmLabel="Yes, delete the team"
          pendingLabel="Deleting…"
          pending={mutation.isPending}
          onConfirm={() => mutation.mutate()}
          onCancel={cancel}
        >
          Every member loses access and pending invitations stop working. This cannot be undone.
        </ConfirmPanel>
      ) : (
        <div className="space-y-3">
          <Hint>
            Every member loses access to the team. A team with a live subscription cannot be deleted: cancel
            it from billing first.
          </Hint>
          <Button
            ref={triggerRef}
            variant="danger"
            onClick={() => {
              notices.clear();
              setConfirming(true);
            }}
          >
            Delete team…
          </Button>
        </div>
      )}
    </Card>
  );
}

function Hint({ children }: { children: ReactNode }) {
  return <p className="text-sm text-muted">{children}</p>;
}
