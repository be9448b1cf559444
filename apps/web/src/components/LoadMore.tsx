import type { ReactNode } from 'react';
import { Button } from './Button.tsx';

/** The part of a TanStack infinite query the button needs. */
interface NextPage {
  hasNextPage: boolean;
  isFetchingNextPage: boolean;
  fetchNextPage: () => Promise<unknown>;
}

/** "Load more" under a paged list, shown only while the server says there is a next page. */
export function LoadMore({ query, children = 'Load more' }: { query: NextPage; children?: ReactNode }) {
  if (!query.hasNextPage) return null;
  return (
    <div className="mt-4">
      <Button
        variant="secondary"
        loading={query.isFetchingNextPage}
        onClick={() => void query.fetchNextPage()}
      >
        {children}
      </Button>
    </div>
  );
}
