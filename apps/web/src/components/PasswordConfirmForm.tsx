import type { ComponentProps, ReactNode } from 'react';
import { isApiError } from '../api.ts';
import { type RequestSchema, useApiForm } from '../hooks/useApiForm.ts';
import { FormError } from './AuthShell.tsx';
import { Button } from './Button.tsx';
import { Field } from './Field.tsx';

const WRONG_PASSWORD = 'The password is incorrect.';

interface PasswordConfirmFormProps<Result> {
  /** What the form says before the field (a warning, the current state). */
  children?: ReactNode;
  label: string;
  /** The input's name: each of these forms on the settings page has its own, for password managers. */
  name: string;
  schema: RequestSchema<{ password: string }>;
  submit: (password: string) => Promise<Result>;
  onSuccess: (result: Result) => unknown;
  action: string;
  /** The button's words while the request runs ("Deleting…"). */
  pendingAction: string;
  variant?: ComponentProps<typeof Button>['variant'];
}

/**
 * A form whose one field is the current password, confirming a change to the account (setting up
 * two-factor, new backup codes, deleting the account). A wrong password is said on the field,
 * whether the API answers it as that field's validation error or as INVALID_CREDENTIALS.
 */
export function PasswordConfirmForm<Result>({
  children,
  label,
  name,
  schema,
  submit,
  onSuccess,
  action,
  pendingAction,
  variant,
}: PasswordConfirmFormProps<Result>) {
  const form = useApiForm({
    initial: { password: '' },
    schema,
    submit: ({ password }) => submit(password),
    onSuccess,
    clearOnSuccess: true,
    resetOnChange: true,
  });
  const { mutation } = form;
  const wrongPassword = isApiError(mutation.error) && mutation.error.code === 'INVALID_CREDENTIALS';
  const fieldError = wrongPassword ? WRONG_PASSWORD : form.errors.password;
  return (
    <form onSubmit={form.onSubmit} noValidate className="space-y-4">
      {children}
      <FormError message={fieldError ? null : form.formError} />
      <Field
        label={label}
        type="password"
        autoComplete="current-password"
        required
        {...form.field('password')}
        name={name}
        error={fieldError}
      />
      <Button
        type="submit"
        variant={variant}
        loading={mutation.isPending}
        disabled={form.values.password === ''}
      >
        {mutation.isPending ? pendingAction : action}
      </Button>
    </form>
  );
}
