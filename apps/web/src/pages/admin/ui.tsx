import type { ReactNode } from 'react';
import { useId } from 'react';

/**
 * The admin pages' shared pieces: a table that scrolls sideways inside itself on a phone (the
 * page never does), and a labelled select.
 */
export function DataTable({
  caption,
  columns,
  children,
}: {
  caption: string;
  columns: ReactNode[];
  children: ReactNode;
}) {
  const captionId = useId();
  return (
    // Keyboard users can scroll the region too: it takes focus, and is named by the caption.
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be focusable (WCAG 2.1.1)
    <section aria-labelledby={captionId} tabIndex={0} className="relative overflow-x-auto">
      <table className="w-full min-w-[40rem] text-left text-sm">
        <caption id={captionId} className="sr-only">
          {caption}
        </caption>
        <thead className="text-muted">
          <tr className="border-b border-line">
            {columns.map((column, index) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: the columns are fixed per table
              <th key={index} scope="col" className="px-3 py-2 font-medium first:pl-0">
                {column}
              </th>
            ))}
          </tr>
        </thead>
        <tbody className="divide-y divide-line">{children}</tbody>
      </table>
    </section>
  );
}

export const cell = 'px-3 py-3 align-top first:pl-0';

export { Select } from '../../components/Select.tsx';

/** "Dec 1, 2026, 10:42" in the reader's locale: admin lists need the time as well as the day. */
export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  return new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' }).format(
    new Date(iso),
  );
}

export function Pill({ tone, children }: { tone: 'ok' | 'warn' | 'danger' | 'muted'; children: ReactNode }) {
  const tones = {
    ok: 'bg-ok-soft text-ok',
    warn: 'bg-warn-soft text-warn',
    danger: 'bg-danger-soft text-danger',
    muted: 'bg-raised text-muted',
  };
  return (
    <span
      className={`inline-flex items-center rounded-full px-2.5 py-0.5 text-xs font-semibold ${tones[tone]}`}
    >
      {children}
    </span>
  );
}
