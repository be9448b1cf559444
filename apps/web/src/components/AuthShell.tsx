import type { ReactNode } from 'react';
import { LogoMark } from './Logo.tsx';
import { PageTitle } from './PageTitle.tsx';

/** The centred card the sign-in, sign-up and recovery pages share. */
export function AuthShell({
  title,
  subtitle,
  children,
  footer,
}: {
  title: string;
  subtitle?: ReactNode;
  children: ReactNode;
  footer?: ReactNode;
}) {
  return (
    <div className="mx-auto w-full max-w-md">
      <div className="flex flex-col items-center text-center">
        <LogoMark className="size-10" />
        <PageTitle className="mt-4">{title}</PageTitle>
        {subtitle && <p className="mt-2 text-muted">{subtitle}</p>}
      </div>
      <div className="mt-8 rounded-2xl border border-line bg-surface p-6 shadow-sm sm:p-8">{children}</div>
      {footer && <div className="mt-6 text-center text-sm text-muted">{footer}</div>}
    </div>
  );
}

export function FormError({ message }: { message: string | null }) {
  if (!message) return null;
  return (
    <div
      role="alert"
      className="rounded-lg border border-danger/40 bg-danger-soft px-3 py-2 text-sm text-danger"
    >
      {message}
    </div>
  );
}

export const textLink = 'font-semibold text-brand-fg underline-offset-4 hover:underline';
