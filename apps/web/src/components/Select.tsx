import { type ReactNode, type SelectHTMLAttributes, useId } from 'react';

interface SelectProps extends SelectHTMLAttributes<HTMLSelectElement> {
  label: string;
  children: ReactNode;
}

/** A labelled select, styled like `Field`. */
export function Select({ label, children, className = '', ...select }: SelectProps) {
  const selectId = useId();
  return (
    <div className={className}>
      <label htmlFor={selectId} className="block text-sm font-medium">
        {label}
      </label>
      <select
        id={selectId}
        className="mt-1.5 block w-full rounded-lg border border-line-strong bg-surface px-3 py-2.5 text-base text-fg shadow-sm"
        {...select}
      >
        {children}
      </select>
    </div>
  );
}
