import { ButtonLink } from './Button.tsx';
import { PageTitle } from './PageTitle.tsx';

export function StatusPage({
  code,
  title,
  message,
  children,
}: {
  code: string;
  title: string;
  message: string;
  children?: React.ReactNode;
}) {
  return (
    <div className="mx-auto max-w-lg py-12 text-center">
      <p className="text-sm font-semibold text-brand-fg">Error {code}</p>
      <PageTitle className="mt-2">{title}</PageTitle>
      <p className="mt-3 text-muted">{message}</p>
      <div className="mt-8 flex flex-wrap justify-center gap-3">{children}</div>
    </div>
  );
}

export function ServerErrorView() {
  return (
    <StatusPage
      code="500"
      title="Something went wrong"
      message="An unexpected error stopped this page. It is not something you did; please try again."
    >
      <button
        type="button"
        onClick={() => window.location.reload()}
        className="inline-flex min-h-10 items-center rounded-lg bg-brand px-4 py-2 text-sm font-semibold text-on-brand"
      >
        Reload the page
      </button>
      <ButtonLink to="/" variant="secondary">
        Go home
      </ButtonLink>
    </StatusPage>
  );
}
