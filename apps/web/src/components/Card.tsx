import { type ReactNode, useId } from 'react';

export function Card({
  title,
  description,
  children,
  className = '',
}: {
  title?: string;
  description?: ReactNode;
  children?: ReactNode;
  className?: string;
}) {
  const titleId = useId();
  return (
    <section
      aria-labelledby={title ? titleId : undefined}
      className={`rounded-2xl border border-line bg-surface p-5 shadow-sm sm:p-6 ${className}`}
    >
      {title && (
        <h2 id={titleId} className="text-lg font-semibold">
          {title}
        </h2>
      )}
      {description && <div className="mt-1 text-sm text-muted">{description}</div>}
      {children && <div className={title || description ? 'mt-4' : ''}>{children}</div>}
    </section>
  );
}
