import { type ReactNode, useEffect, useId, useRef } from 'react';
import { Alert } from './Alert.tsx';
import { Button } from './Button.tsx';

/**
 * An inline "are you sure?" for a destructive action. It takes focus when it opens, so a keyboard
 * or screen-reader user hears the question; Cancel (or Escape) hands focus back to `returnFocus`.
 */
export function ConfirmPanel({
  title,
  children,
  confirmLabel,
  pendingLabel,
  pending,
  onConfirm,
  onCancel,
}: {
  title: string;
  children?: ReactNode;
  confirmLabel: string;
  pendingLabel: string;
  pending: boolean;
  onConfirm(): void;
  onCancel(): void;
}) {
  const titleId = useId();
  const ref = useRef<HTMLParagraphElement>(null);
  useEffect(() => ref.current?.focus(), []);
  return (
    <section
      aria-labelledby={titleId}
      className="rounded-xl border border-danger/40 bg-danger-soft p-4 text-fg"
      onKeyDown={(event) => {
        if (event.key === 'Escape' && !pending) onCancel();
      }}
    >
      <p id={titleId} ref={ref} tabIndex={-1} className="font-semibold">
        {title}
      </p>
      {children && <div className="mt-1 text-sm">{children}</div>}
      <div className="mt-3 flex flex-wrap gap-3">
        <Button variant="danger" loading={pending} onClick={onConfirm}>
          {pending ? pendingLabel : confirmLabel}
        </Button>
        <Button variant="secondary" disabled={pending} onClick={onCancel}>
          Cancel
        </Button>
      </div>
    </section>
  );
}

export interface Notice {
  tone: 'success' | 'danger';
  title?: string;
  text: string;
  /** A new number per action, so the same message twice is still announced and focused. */
  key: number;
}

/**
 * The outcome of the last action on a page, focused when it changes so the result is read out
 * (the button that was pressed may be gone: a removed member, a revoked invitation).
 */
export function ActionNotice({ notice }: { notice: Notice | null }) {
  const ref = useRef<HTMLDivElement>(null);
  const key = notice?.key;
  useEffect(() => {
    if (key !== undefined) ref.current?.focus();
  }, [key]);
  if (!notice) return null;
  return (
    <div ref={ref} tabIndex={-1} className="rounded-xl">
      <Alert tone={notice.tone} {...(notice.title ? { title: notice.title } : {})}>
        {notice.text}
      </Alert>
    </div>
  );
}
