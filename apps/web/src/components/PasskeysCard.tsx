import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type Passkey, passkeyRegisterRequest, passkeyRenameRequest } from '@tierbase/contracts';
import { useState } from 'react';
import { useApiForm } from '../hooks/useApiForm.ts';
import { errorMessage } from '../lib/errors.ts';
import { formatDate } from '../lib/format.ts';
import { addPasskey, ceremonyErrorMessage, passkeySupported, passkeysApi } from '../lib/passkeys.ts';
import { FormError } from './AuthShell.tsx';
import { Button } from './Button.tsx';
import { Card } from './Card.tsx';
import { Field } from './Field.tsx';
import { LoadingState } from './States.tsx';

export const PASSKEYS_KEY = ['passkeys'] as const;

const failure = (error: unknown) => ceremonyErrorMessage(error) ?? errorMessage(error);

/** Settings: the user's passkeys (name, added, last used), adding one on this device, deleting. */
export function PasskeysCard() {
  const supported = passkeySupported();
  const query = useQuery({ queryKey: PASSKEYS_KEY, queryFn: passkeysApi.list });
  const passkeys = query.data?.passkeys ?? [];
  return (
    <Card
      title="Passkeys"
      description="Sign in with your fingerprint, face or screen lock instead of your email and password. Passkeys cannot be phished: they only work on this site."
    >
      <div className="space-y-5">
        {query.isPending ? (
          <LoadingState label="Loading your passkeys…" />
        ) : query.isError ? (
          <FormError message={errorMessage(query.error)} />
        ) : passkeys.length === 0 ? (
          <p className="text-sm text-muted">You have no passkeys yet.</p>
        ) : (
          <ul className="divide-y divide-line rounded-lg border border-line">
            {passkeys.map((passkey) => (
              <PasskeyRow key={passkey.id} passkey={passkey} />
            ))}
          </ul>
        )}
        {supported ? (
          <AddPasskeyForm />
        ) : (
          <p className="text-sm text-muted">This browser does not support passkeys.</p>
        )}
      </div>
    </Card>
  );
}

function PasskeyRow({ passkey }: { passkey: Passkey }) {
  const queryClient = useQueryClient();
  const [renaming, setRenaming] = useState(false);
  const refresh = () => queryClient.invalidateQueries({ queryKey: PASSKEYS_KEY });
  const rename = useApiForm({
    initial: { name: passkey.name },
    schema: passkeyRenameRequest,
    submit: ({ name }) => passkeysApi.rename(passkey.id, name),
    onSuccess: async () => {
      setRenaming(false);
      await refresh();
    },
  });
  const remove = useMutation({ mutationFn: () => passkeysApi.remove(passkey.id), onSuccess: refresh });
  return (
    <li className="flex flex-col gap-3 p-4 sm:flex-row sm:items-center sm:justify-between">
      {renaming ? (
        <form
          onSubmit={rename.onSubmit}
          noValidate
          className="flex flex-1 flex-col gap-3 sm:flex-row sm:items-end"
        >
          <Field
            className="flex-1"
            label={`New name for ${passkey.name}`}
            required
            maxLength={64}
            {...rename.field('name')}
            name="passkeyName"
            // The row has no line of its own for errors: whatever went wrong is said on the field.
            error={rename.errors.name ?? rename.formError ?? undefined}
          />
          <div className="flex gap-2">
            <Button type="submit" loading={rename.mutation.isPending}>
              Save
            </Button>
            <Button
              variant="ghost"
              onClick={() => {
                setRenaming(false);
                rename.reset();
              }}
            >
              Cancel
            </Button>
          </div>
        </form>
      ) : (
        <>
          <div>
            <p className="font-medium">{passkey.name}</p>
            <p className="text-sm text-muted">
              Added {formatDate(passkey.createdAt)} ·{' '}
              {passkey.lastUsedAt ? `last used ${formatDate(passkey.lastUsedAt)}` : 'never used'}
            </p>
            {remove.isError && <p className="text-sm text-danger">{errorMessage(remove.error)}</p>}
          </div>
          <div className="flex gap-2">
            <Button
              variant="secondary"
              aria-label={`Rename ${passkey.name}`}
              onClick={() => setRenaming(true)}
            >
              Rename
            </Button>
            <Button
              variant="danger"
              aria-label={`Delete ${passkey.name}`}
              loading={remove.isPending}
              onClick={() => remove.mutate()}
            >
              Delete
            </Button>
          </div>
        </>
      )}
    </li>
  );
}

/** The part of a new passkey's request the form fills in; the browser's ceremony adds the rest. */
const passkeyNameRequest = passkeyRegisterRequest.pick({ name: true });

function AddPasskeyForm() {
  const queryClient = useQueryClient();
  const form = useApiForm({
    initial: { name: '' },
    schema: passkeyNameRequest,
    submit: ({ name }) => addPasskey(name),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: PASSKEYS_KEY }),
    clearOnSuccess: true,
    resetOnChange: true,
  });
  const { errors, mutation } = form;
  return (
    <form onSubmit={form.onSubmit} noValidate className="space-y-4">
      <FormError
        message={errors.name || !mutation.error ? null : (errors.credential ?? failure(mutation.error))}
      />
      <Field
        label="Name for a new passkey"
        required
        maxLength={64}
        placeholder="e.g. Work laptop"
        hint="So you can tell your passkeys apart."
        {...form.field('name')}
        name="newPasskeyName"
      />
      <div className="flex items-center gap-4">
        <Button type="submit" loading={mutation.isPending} disabled={form.values.name.trim() === ''}>
          {mutation.isPending ? 'Waiting for your device…' : 'Add a passkey'}
        </Button>
        <p aria-live="polite" className="text-sm text-ok">
          {mutation.isSuccess ? `Passkey “${mutation.data.name}” added.` : ''}
        </p>
      </div>
    </form>
  );
}
