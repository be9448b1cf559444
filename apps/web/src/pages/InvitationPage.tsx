import { useMutation, useQuery } from '@tanstack/react-query';
import type { InvitationPreviewResponse } from '@tierbase/contracts';
import { type ReactNode, useEffect, useState } from 'react';
import { Link, Navigate, useNavigate } from 'react-router';
import { api, isApiError } from '../api.ts';
import { Alert } from '../components/Alert.tsx';
import { AuthShell, FormError, textLink } from '../components/AuthShell.tsx';
import { Button, ButtonLink } from '../components/Button.tsx';
import { ResendVerification } from '../components/ResendVerification.tsx';
import { LoadingState } from '../components/States.tsx';
import { useAuth } from '../hooks/useAuth.ts';
import { useTokenFromUrl } from '../hooks/useTokenFromUrl.ts';
import { useRefreshWorkspace } from '../hooks/useWorkspaces.ts';
import { errorMessage } from '../lib/errors.ts';
import { formatDate } from '../lib/format.ts';
import { forgetInvitation, pendingInvitation, rememberInvitation } from '../lib/pendingInvitation.ts';
import { roleLabel } from '../lib/roles.ts';

const HERE = encodeURIComponent('/invitations');

/**
 * Where the invitation email's link lands (`/invitations#token=…`): what the invitation is, then
 * sign in or create an account with the invited address, and accept. The token is kept for the
 * tab meanwhile, so signing in (or verifying a new account) comes back here.
 */
export default function InvitationPage() {
  const fromUrl = useTokenFromUrl();
  const [token] = useState(() => fromUrl ?? pendingInvitation());
  useEffect(() => {
    if (fromUrl) rememberInvitation(fromUrl);
  }, [fromUrl]);

  const preview = useQuery({
    queryKey: ['invitation', token],
    queryFn: () => api.previewInvitation(token ?? ''),
    enabled: token !== null,
    staleTime: Number.POSITIVE_INFINITY,
    retry: false,
  });
  const gone = isApiError(preview.error) && preview.error.code === 'NOT_FOUND';
  useEffect(() => {
    if (gone) forgetInvitation();
  }, [gone]);

  if (!token || gone) {
    return (
      <AuthShell
        title="This invitation does not work"
        subtitle="Invitations work once and expire after 7 days; an owner or admin can also revoke one."
      >
        <div className="space-y-4">
          <p className="text-sm text-muted">
            Open the link in the newest invitation email, or ask the person who invited you to send a new one.
          </p>
          <ButtonLink to="/" className="w-full">
            Go to Tierbase
          </ButtonLink>
        </div>
      </AuthShell>
    );
  }
  if (preview.isPending) {
    return (
      <AuthShell title="Opening your invitation">
        <LoadingState label="Reading the invitation…" />
      </AuthShell>
    );
  }
  if (preview.isError) {
    return (
      <AuthShell title="We could not open the invitation" subtitle={errorMessage(preview.error)}>
        <Button className="w-full" onClick={() => void preview.refetch()}>
          Try again
        </Button>
      </AuthShell>
    );
  }
  return <Invitation token={token} invitation={preview.data} />;
}

function Invitation({ token, invitation }: { token: string; invitation: InvitationPreviewResponse }) {
  const { currentUser, isLoading, logout } = useAuth();
  const navigate = useNavigate();
  const refresh = useRefreshWorkspace();
  const accept = useMutation({
    mutationFn: () => api.acceptInvitation(token),
    onSuccess: async ({ organization }) => {
      forgetInvitation();
      // The team is the active workspace now: its plan, billing and list are read again.
      await refresh();
      navigate(`/organizations/${encodeURIComponent(organization.id)}`, { replace: true });
    },
  });
  const signOut = useMutation({ mutationFn: logout });

  const role = roleLabel[invitation.role].toLowerCase();
  const subtitle = (
    <>
      {invitation.inviterName} invited <strong className="text-fg">{invitation.email}</strong> to join as{' '}
      {role === 'admin' ? 'an' : 'a'} {role}.
    </>
  );

  // Signed out to switch account: on to sign in, and back here after. Leaving from a render that
  // sees no user (not from the mutation's callback, which can run before the auth state reaches
  // the pages) keeps the sign-in page from finding the old session and sending us back here.
  if (!signOut.isIdle && !currentUser) return <Navigate to={`/login?next=${HERE}`} replace />;

  let body: ReactNode;
  if (isLoading) {
    body = <LoadingState label="Checking your session…" />;
  } else if (!currentUser) {
    body = (
      <div className="space-y-4">
        <p className="text-sm text-muted">
          Sign in with <strong className="text-fg">{invitation.email}</strong>, or create an account with that
          address, to accept. You come back here afterwards.
        </p>
        <ButtonLink to={`/login?next=${HERE}`} className="w-full">
          Sign in to accept
        </ButtonLink>
        <ButtonLink to={`/register?next=${HERE}`} variant="secondary" className="w-full">
          Create an account
        </ButtonLink>
      </div>
    );
  } else if (currentUser.email.toLowerCase() !== invitation.email.toLowerCase()) {
    body = (
      <div className="space-y-4">
        <Alert tone="danger" title={`This invitation is for ${invitation.email}`}>
          You are signed in as {currentUser.email}. Sign out, then sign in or create an account with{' '}
          {invitation.email} to accept it.
        </Alert>
        <Button className="w-full" loading={signOut.isPending} onClick={() => signOut.mutate()}>
          {signOut.isPending ? 'Signing out…' : 'Sign out and switch account'}
        </Button>
      </div>
    );
  } else if (!currentUser.emailVerified) {
    body = (
      <div className="space-y-4">
        <Alert tone="warning" title="Verify your email address first">
          Open the link we sent to {currentUser.email}; you come back here to accept.
        </Alert>
        <ResendVerification variant="primary" />
      </div>
    );
  } else {
    const mismatch = isApiError(accept.error) && accept.error.code === 'INVITATION_EMAIL_MISMATCH';
    body = (
      <div className="space-y-4">
        <FormError
          message={
            accept.error
              ? mismatch
                ? `This invitation is for ${invitation.email}, not for the account you are signed in with.`
                : errorMessage(accept.error)
              : null
          }
        />
        <p className="text-sm text-muted">
          You join as {role === 'admin' ? 'an' : 'a'} {role}, and {invitation.organizationName} becomes your
          active workspace. The invitation expires on {formatDate(invitation.expiresAt)}.
        </p>
        <Button
          size="lg"
          className="w-full"
          loading={accept.isPending || accept.isSuccess}
          onClick={() => accept.mutate()}
        >
          {accept.isPending ? 'Joining…' : `Accept and join ${invitation.organizationName}`}
        </Button>
      </div>
    );
  }

  return (
    <AuthShell
      title={`Join ${invitation.organizationName}`}
      subtitle={subtitle}
      footer={
        currentUser ? (
          <Link className={textLink} to="/">
            Not now
          </Link>
        ) : null
      }
    >
      {body}
    </AuthShell>
  );
}
