import { type ReactNode, useEffect, useRef } from 'react';

let firstPageShown = false;

/**
 * The page's h1. It names the document and, after a client-side navigation, takes focus so
 * keyboard and screen-reader users start at the new page's heading (not the link they clicked).
 */
export function PageTitle({
  children,
  title,
  className = '',
}: {
  children: ReactNode;
  /** The document title when the heading is not plain text. */
  title?: string;
  className?: string;
}) {
  const ref = useRef<HTMLHeadingElement>(null);
  const text = title ?? (typeof children === 'string' ? children : '');
  useEffect(() => {
    document.title = text ? `${text} · Tierbase` : 'Tierbase';
  }, [text]);
  useEffect(() => {
    // The first page of a visit keeps the browser's own focus start.
    if (firstPageShown) ref.current?.focus();
    firstPageShown = true;
  }, []);
  return (
    <h1 ref={ref} tabIndex={-1} className={`text-2xl font-bold tracking-tight sm:text-3xl ${className}`}>
      {children}
    </h1>
  );
}
