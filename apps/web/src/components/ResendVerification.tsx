import { useMutation } from '@tanstack/react-query';
import { api } from '../api.ts';
import { errorMessage } from '../lib/errors.ts';
import { Button } from './Button.tsx';

/** "Resend the email", with what happened said next to it. */
export function ResendVerification({ variant = 'secondary' }: { variant?: 'primary' | 'secondary' }) {
  const mutation = useMutation({ mutationFn: api.resendVerification });
  return (
    <div className="flex flex-col gap-2 sm:flex-row sm:items-center">
      <Button variant={variant} loading={mutation.isPending} onClick={() => mutation.mutate()}>
        {mutation.isPending ? 'Sending…' : 'Resend the email'}
      </Button>
      <p aria-live="polite" className="text-sm">
        {mutation.isSuccess && <span className="text-ok">Sent. Check your inbox.</span>}
        {mutation.isError && <span className="text-danger">{errorMessage(mutation.error)}</span>}
      </p>
    </div>
  );
}
