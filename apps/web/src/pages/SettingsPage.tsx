import { useMutation } from '@tanstack/react-query';
import { accountDeleteRequest, passwordChangeRequest, profileUpdateRequest } from '@tierbase/contracts';
import { useNavigate } from 'react-router';
import { api } from '../api.ts';
import { Alert } from '../components/Alert.tsx';
import { FormError } from '../components/AuthShell.tsx';
import { Button } from '../components/Button.tsx';
import { Card } from '../components/Card.tsx';
import { Field } from '../components/Field.tsx';
import { SignInMethodsCard } from '../components/OAuthButtons.tsx';
import { PageTitle } from '../components/PageTitle.tsx';
import { PasskeysCard } from '../components/PasskeysCard.tsx';
import { PasswordConfirmForm } from '../components/PasswordConfirmForm.tsx';
import { ResendVerification } from '../components/ResendVerification.tsx';
import { TwoFactorCard } from '../components/TwoFactorSettings.tsx';
import { useApiForm } from '../hooks/useApiForm.ts';
import { useAuth } from '../hooks/useAuth.ts';
import { errorMessage, PASSWORDS_DIFFER } from '../lib/errors.ts';
import { formatDate } from '../lib/format.ts';

export default function SettingsPage() {
  const { currentUser } = useAuth();
  return (
    <div className="mx-auto max-w-3xl space-y-8">
      <div>
        <PageTitle>Account settings</PageTitle>
        <p className="mt-1 text-muted">
          Signed in as {currentUser?.email}
          {currentUser ? ` · member since ${formatDate(currentUser.createdAt)}` : ''}
        </p>
      </div>
      <ProfileForm />
      <EmailCard />
      <PasswordForm />
      <SignInMethodsCard />
      <TwoFactorCard />
      <PasskeysCard />
      <SessionsCard />
      <DataCard />
      <DeleteAccountCard />
    </div>
  );
}

function Saved({ show, children }: { show: boolean; children: string }) {
  return (
    <p aria-live="polite" className="text-sm text-ok">
      {show ? children : ''}
    </p>
  );
}

export function ProfileForm() {
  const { currentUser, setUser } = useAuth();
  const form = useApiForm({
    initial: { name: currentUser?.name ?? '' },
    schema: profileUpdateRequest,
    submit: ({ name }) => api.updateProfile(name),
    onSuccess: setUser,
    resetOnChange: true,
  });
  const { mutation } = form;
  const unchanged = form.values.name.trim() === (currentUser?.name ?? '');
  return (
    <Card title="Profile" description="How we address you in the app and in emails.">
      <form onSubmit={form.onSubmit} noValidate className="space-y-4">
        {/* The name field says what is wrong with it; the form's line is for anything else. */}
        <FormError message={form.errors.name ? null : form.formError} />
        <Field label="Name" autoComplete="name" required maxLength={100} {...form.field('name')} />
        <div className="flex items-center gap-4">
          <Button type="submit" loading={mutation.isPending} disabled={unchanged}>
            {mutation.isPending ? 'Saving…' : 'Save name'}
          </Button>
          <Saved show={mutation.isSuccess}>Saved.</Saved>
        </div>
      </form>
    </Card>
  );
}

function EmailCard() {
  const { currentUser } = useAuth();
  if (!currentUser) return null;
  return (
    <Card title="Email address">
      <div className="flex flex-col gap-4 sm:flex-row sm:items-center sm:justify-between">
        <div>
          <p className="font-medium">{currentUser.email}</p>
          <p className={`text-sm ${currentUser.emailVerified ? 'text-ok' : 'text-warn'}`}>
            {currentUser.emailVerified ? 'Verified' : 'Not verified yet'}
          </p>
        </div>
        {!currentUser.emailVerified && <ResendVerification />}
      </div>
    </Card>
  );
}

export function PasswordForm() {
  const form = useApiForm({
    initial: { currentPassword: '', newPassword: '', confirmPassword: '' },
    schema: passwordChangeRequest,
    toRequest: ({ currentPassword, newPassword }) => ({ currentPassword, newPassword }),
    validate: ({ newPassword, confirmPassword }) => ({
      confirmPassword: newPassword !== confirmPassword ? PASSWORDS_DIFFER : undefined,
    }),
    submit: api.changePassword,
    clearOnSuccess: true,
  });
  const { mutation } = form;
  return (
    <Card title="Password" description="Changing it signs you out on every other device.">
      <form onSubmit={form.onSubmit} noValidate className="space-y-4">
        <FormError message={form.formError} />
        <Field
          label="Current password"
          type="password"
          autoComplete="current-password"
          required
          {...form.field('currentPassword')}
        />
        <div className="grid gap-4 sm:grid-cols-2">
          <Field
            label="New password"
            type="password"
            autoComplete="new-password"
            required
            {...form.field('newPassword')}
          />
          <Field
            label="Confirm new password"
            type="password"
            autoComplete="new-password"
            required
            {...form.field('confirmPassword')}
          />
        </div>
        <div className="flex items-center gap-4">
          <Button type="submit" loading={mutation.isPending}>
            {mutation.isPending ? 'Changing…' : 'Change password'}
          </Button>
          <Saved show={mutation.isSuccess}>Password changed.</Saved>
        </div>
      </form>
    </Card>
  );
}

function SessionsCard() {
  const mutation = useMutation({ mutationFn: api.revokeOtherSessions });
  return (
    <Card
      title="Sessions"
      description="Signed in on a device you no longer use, or a shared computer? End every session except this one."
    >
      <div className="flex flex-col gap-3 sm:flex-row sm:items-center">
        <Button variant="danger" loading={mutation.isPending} onClick={() => mutation.mutate()}>
          {mutation.isPending ? 'Signing out…' : 'Sign out of all other sessions'}
        </Button>
        <p aria-live="polite" className="text-sm">
          {mutation.isSuccess && (
            <span className="text-ok">
              {mutation.data.revoked === 0
                ? 'No other sessions were open.'
                : `Signed out of ${mutation.data.revoked} other session${mutation.data.revoked === 1 ? '' : 's'}.`}
            </span>
          )}
          {mutation.isError && <span className="text-danger">{errorMessage(mutation.error)}</span>}
        </p>
      </div>
    </Card>
  );
}

/** Saves the export through the browser's download, with the file name the server chose. */
function saveFile(blob: Blob, filename: string) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  URL.revokeObjectURL(url);
}

export function DataCard() {
  const mutation = useMutation({
    mutationFn: api.exportAccount,
    onSuccess: ({ blob, filename }) => saveFile(blob, filename),
  });
  return (
    <Card
      title="Your data"
      description="A copy of everything we hold about you, as a JSON file: your account, sessions, subscription, invoices, AI requests and the emails we sent you."
    >
      <div className="flex flex-col gap-3 sm:flex-row sm:items-center">
        <Button variant="secondary" loading={mutation.isPending} onClick={() => mutation.mutate()}>
          {mutation.isPending ? 'Preparing…' : 'Download my data'}
        </Button>
        <p aria-live="polite" className="text-sm">
          {mutation.isSuccess && <span className="text-ok">Your data has been downloaded.</span>}
          {mutation.isError && <span className="text-danger">{errorMessage(mutation.error)}</span>}
        </p>
      </div>
    </Card>
  );
}

export function DeleteAccountCard() {
  const navigate = useNavigate();
  return (
    <Card title="Delete account">
      <PasswordConfirmForm
        label="Your password, to confirm"
        name="deletePassword"
        schema={accountDeleteRequest}
        submit={api.deleteAccount}
        // The server ended every session. The home page forgets the user once it is on screen: done
        // here, this page would first send us to the sign-in form.
        onSuccess={() => navigate('/', { replace: true, state: { accountDeleted: true } })}
        action="Delete my account"
        pendingAction="Deleting…"
        variant="danger"
      >
        <Alert tone="warning" title="This cannot be undone">
          <ul className="list-disc space-y-1 pl-5">
            <li>Your subscription, if any, is canceled at once, with no refund for the time left.</li>
            <li>
              Your account, profile, sessions, AI history and the emails we sent you are erased, and you are
              signed out everywhere.
            </li>
            <li>Invoices already issued are kept by our payment provider, as tax law requires.</li>
          </ul>
          <p className="mt-2">Download your data first if you want a copy.</p>
        </Alert>
      </PasswordConfirmForm>
    </Card>
  );
}
