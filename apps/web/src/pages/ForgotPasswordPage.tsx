import { passwordResetRequest } from '@tierbase/contracts';
import { Link } from 'react-router';
import { api } from '../api.ts';
import { AuthShell, FormError, textLink } from '../components/AuthShell.tsx';
import { Button } from '../components/Button.tsx';
import { Field } from '../components/Field.tsx';
import { useApiForm } from '../hooks/useApiForm.ts';

export default function ForgotPasswordPage() {
  const form = useApiForm({
    initial: { email: '' },
    schema: passwordResetRequest,
    submit: ({ email }) => api.requestPasswordReset(email),
  });
  const { mutation } = form;

  return (
    <AuthShell
      title="Reset your password"
      subtitle="We will email you a link to choose a new one."
      footer={
        <>
          Remembered it?{' '}
          <Link className={textLink} to="/login">
            Back to sign in
          </Link>
        </>
      }
    >
      {mutation.isSuccess ? (
        <div role="status" className="space-y-2">
          <p className="font-semibold">Check your inbox</p>
          <p className="text-sm text-muted">{mutation.data.message}</p>
          <p className="text-sm text-muted">The link expires soon and works once.</p>
        </div>
      ) : (
        <form onSubmit={form.onSubmit} noValidate className="space-y-5">
          <FormError message={form.formError} />
          <Field label="Email" type="email" autoComplete="email" required {...form.field('email')} />
          <Button type="submit" size="lg" className="w-full" loading={mutation.isPending}>
            {mutation.isPending ? 'Sending…' : 'Email me a reset link'}
          </Button>
        </form>
      )}
    </AuthShell>
  );
}
