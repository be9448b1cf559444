import {
  backupCodesRequest,
  type TwoFactorSetup,
  twoFactorConfirmRequest,
  twoFactorDisableRequest,
  twoFactorEnableRequest,
} from '@tierbase/contracts';
import { useState } from 'react';
import { api } from '../api.ts';
import { useApiForm } from '../hooks/useApiForm.ts';
import { useAuth } from '../hooks/useAuth.ts';
import { Alert } from './Alert.tsx';
import { FormError } from './AuthShell.tsx';
import { Button } from './Button.tsx';
import { Card } from './Card.tsx';
import { Field } from './Field.tsx';
import { PasswordConfirmForm } from './PasswordConfirmForm.tsx';

/**
 * Settings → Two-factor authentication: set up (password → QR code and typed key → first code),
 * backup codes shown once (copy, download), new backup codes, and turning it off.
 */
export function TwoFactorCard() {
  const { currentUser } = useAuth();
  const [setup, setSetup] = useState<TwoFactorSetup | null>(null);
  const [justEnabled, setJustEnabled] = useState(false);
  if (!currentUser) return null;
  return (
    <Card
      title="Two-factor authentication"
      description="Sign-in asks for a code from an authenticator app on your phone after your password, so a stolen password alone is not enough."
    >
      {currentUser.twoFactorEnabled ? (
        <div className="space-y-6">
          <p role="status" className="font-medium text-ok">
            {justEnabled ? 'Two-factor authentication is now on.' : 'Two-factor authentication is on.'}
          </p>
          <RegenerateBackupCodes />
          <DisableTwoFactor />
        </div>
      ) : setup ? (
        <ConfirmSetup
          setup={setup}
          onCancel={() => setSetup(null)}
          onEnabled={() => {
            setSetup(null);
            setJustEnabled(true);
          }}
        />
      ) : (
        <StartSetup onStarted={setSetup} />
      )}
    </Card>
  );
}

function StartSetup({ onStarted }: { onStarted: (setup: TwoFactorSetup) => void }) {
  return (
    <PasswordConfirmForm
      label="Your password, to set up two-factor"
      name="twoFactorPassword"
      schema={twoFactorEnableRequest}
      submit={api.enableTwoFactor}
      onSuccess={onStarted}
      action="Set up two-factor authentication"
      pendingAction="Starting…"
    >
      <p className="text-sm">Two-factor authentication is off.</p>
    </PasswordConfirmForm>
  );
}

function ConfirmSetup({
  setup,
  onCancel,
  onEnabled,
}: {
  setup: TwoFactorSetup;
  onCancel: () => void;
  onEnabled: () => void;
}) {
  const { setUser } = useAuth();
  const form = useApiForm({
    initial: { code: '' },
    schema: twoFactorConfirmRequest,
    submit: ({ code }) => api.confirmTwoFactor(code),
    onSuccess: (profile) => {
      onEnabled();
      setUser(profile);
    },
    resetOnChange: true,
  });
  return (
    <div className="space-y-6">
      <ol className="list-decimal space-y-6 pl-5">
        <li className="space-y-3">
          <p>
            Scan this QR code with your authenticator app (for example 1Password, Google Authenticator or
            Authy).
          </p>
          <img
            src={setup.qrCode}
            alt="QR code of the two-factor key for your authenticator app"
            width={192}
            height={192}
            className="rounded-lg border border-line bg-white p-2"
          />
          <p className="text-sm">
            Or type this key into the app:{' '}
            <code
              data-testid="two-factor-key"
              className="break-all rounded bg-raised px-1.5 py-0.5 font-mono text-sm"
            >
              {setup.secret}
            </code>
          </p>
        </li>
        <li className="space-y-3">
          <p>
            Save your backup codes. Each signs you in once if you lose your phone. They are shown only now.
          </p>
          <BackupCodeList codes={setup.backupCodes} />
        </li>
        <li>
          <form onSubmit={form.onSubmit} noValidate className="space-y-4">
            <FormError message={form.errors.code ? null : form.formError} />
            <Field
              label="Enter the 6-digit code the app shows"
              inputMode="numeric"
              autoComplete="one-time-code"
              required
              {...form.field('code')}
              name="twoFactorSetupCode"
            />
            <div className="flex flex-wrap gap-3">
              <Button
                type="submit"
                loading={form.mutation.isPending}
                disabled={form.values.code.trim() === ''}
              >
                {form.mutation.isPending ? 'Checking…' : 'Turn on two-factor authentication'}
              </Button>
              <Button type="button" variant="secondary" onClick={onCancel}>
                Cancel
              </Button>
            </div>
          </form>
        </li>
      </ol>
    </div>
  );
}

/** The codes, once, with ways to keep them: copy to the clipboard or download as a text file. */
export function BackupCodeList({ codes }: { codes: string[] }) {
  const [copied, setCopied] = useState<'yes' | 'failed' | null>(null);
  const text = `Tierbase backup codes (each works once)\n\n${codes.join('\n')}\n`;
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied('yes');
    } catch {
      setCopied('failed');
    }
  };
  const download = () => {
    const url = URL.createObjectURL(new Blob([text], { type: 'text/plain' }));
    const link = document.createElement('a');
    link.href = url;
    link.download = 'tierbase-backup-codes.txt';
    document.body.append(link);
    link.click();
    link.remove();
    URL.revokeObjectURL(url);
  };
  return (
    <div className="space-y-3">
      <ul
        aria-label="Backup codes"
        className="grid grid-cols-2 gap-2 rounded-lg border border-line bg-raised p-3 font-mono text-sm sm:grid-cols-5"
      >
        {codes.map((code) => (
          <li key={code}>{code}</li>
        ))}
      </ul>
      <div className="flex flex-wrap items-center gap-3">
        <Button type="button" variant="secondary" onClick={copy}>
          Copy codes
        </Button>
        <Button type="button" variant="secondary" onClick={download}>
          Download codes
        </Button>
        <p aria-live="polite" className="text-sm">
          {copied === 'yes' && <span className="text-ok">Copied.</span>}
          {copied === 'failed' && (
            <span className="text-danger">Could not copy; select the codes instead.</span>
          )}
        </p>
      </div>
    </div>
  );
}

function RegenerateBackupCodes() {
  const [codes, setCodes] = useState<string[] | null>(null);
  return (
    <section aria-labelledby="backup-codes-heading" className="space-y-3">
      <h3 id="backup-codes-heading" className="font-semibold">
        Backup codes
      </h3>
      {codes ? (
        <>
          <Alert tone="success" title="New backup codes">
            Your previous backup codes no longer work. Save these now: they are shown only once.
          </Alert>
          <BackupCodeList codes={codes} />
        </>
      ) : (
        <PasswordConfirmForm
          label="Your password, for new backup codes"
          name="backupCodesPassword"
          schema={backupCodesRequest}
          submit={api.regenerateBackupCodes}
          onSuccess={({ backupCodes }) => setCodes(backupCodes)}
          action="Make new backup codes"
          pendingAction="Making codes…"
          variant="secondary"
        >
          <p className="text-sm text-muted">
            Used some, or lost them? Make new ones; the old ones stop working.
          </p>
        </PasswordConfirmForm>
      )}
    </section>
  );
}

function DisableTwoFactor() {
  const { setUser } = useAuth();
  const form = useApiForm({
    initial: { password: '', code: '' },
    schema: twoFactorDisableRequest,
    submit: api.disableTwoFactor,
    onSuccess: setUser,
    resetOnChange: true,
  });
  const { errors, values, mutation } = form;
  return (
    <section aria-labelledby="disable-two-factor-heading" className="space-y-3">
      <h3 id="disable-two-factor-heading" className="font-semibold">
        Turn off two-factor authentication
      </h3>
      <form onSubmit={form.onSubmit} noValidate className="space-y-4">
        <FormError message={errors.password || errors.code ? null : form.formError} />
        <div className="grid gap-4 sm:grid-cols-2">
          <Field
            label="Your password"
            type="password"
            autoComplete="current-password"
            required
            {...form.field('password')}
            name="disablePassword"
          />
          <Field
            label="Code from your app, or a backup code"
            autoComplete="one-time-code"
            required
            {...form.field('code')}
            name="disableCode"
          />
        </div>
        <Button
          type="submit"
          variant="danger"
          loading={mutation.isPending}
          disabled={values.password === '' || values.code.trim() === ''}
        >
          {mutation.isPending ? 'Turning off…' : 'Turn off two-factor authentication'}
        </Button>
      </form>
    </section>
  );
}
