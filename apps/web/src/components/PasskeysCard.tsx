import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { Passkey } from '@tierbase/contracts';
import { type FormEvent, useState } from 'react';
import { errorMessage, fieldErrors } from '../lib/errors.ts';
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
  const [name, setName] = useState(passkey.name);
  const refresh = () => queryClient.invalidateQueries({ queryKey: PASSKEYS_KEY });
  const rename = useMutation({
    mutationFn: () => passkeysApi.rename(passkey.id, name.trim()),
    onSuccess: async () => {
      setRenaming(false);
      await refresh();
    },
  });
  const remove = useMutation({ mutationFn: () => passkeysApi.remove(passkey.id), onSuccess: refresh });
  const onRename = (event: FormEvent) => {
    event.preventDefault();
    rename.mutate();
  };
  return (
    <li className="flex flex-col gap-3 p-4 sm:flex-row sm:items-center sm:justify-between">
      {renaming ? (
        <form onSubmit={onRename} noValidate className="flex flex-1 flex-col gap-3 sm:flex-row sm:items-end">
          <Field
            className="flex-1"
            label={`New name for ${passkey.name}`}
            name="passkeyName"
            required
            maxLength={64}
            value={name}
            onChange={(event) => setName(event.target.value)}
            error={rename.error ? (fieldErrors(rename.error).name ?? errorMessage(rename.error)) : undefined}
          />
          <div className="flex gap-2">
            <Button type="submit" loading={rename.isPending}>
              Save
            </Button>
            <Button
              variant="ghost"
              onClick={() => {
                setRenaming(false);
                setName(passkey.name);
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

function AddPasskeyForm() {
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const mutation = useMutation({
    mutationFn: () => addPasskey(name.trim()),
    onSuccess: async () => {
      setName('');
      await queryClient.invalidateQueries({ queryKey: PASSKEYS_KEY });
    },
  });
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    mutation.mutate();
  };
  const nameError = fieldErrors(mutation.error).name;
  const credentialError = fieldErrors(mutation.error).credential;
  return (
    <form onSubmit={onSubmit} noValidate className="space-y-4">
      <FormError
        message={mutation.error && !nameError ? (credentialError ?? failure(mutation.error)) : null}
      />
      <Field
        label="Name for a new passkey"
        name="newPasskeyName"
        required
        maxLength={64}
        placeholder="e.g. Work laptop"
        hint="So you can tell your passkeys apart."
        value={name}
        onChange={(event) => {
          setName(event.target.value);
          mutation.reset();
        }}
        error={nameError}
      />
      <div className="flex items-center gap-4">
        <Button type="submit" loading={mutation.isPending} disabled={name.trim() === ''}>
          {mutation.isPending ? 'Waiting for your device…' : 'Add a passkey'}
        </Button>
        <p aria-live="polite" className="text-sm text-ok">
          {mutation.isSuccess ? `Passkey “${mutation.data.name}” added.` : ''}
        </p>
      </div>
    </form>
  );
}
