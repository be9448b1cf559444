import { useInfiniteQuery } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { Link } from 'react-router';
import { Button } from '../../components/Button.tsx';
import { Card } from '../../components/Card.tsx';
import { Field } from '../../components/Field.tsx';
import { LoadMore } from '../../components/LoadMore.tsx';
import { PageTitle } from '../../components/PageTitle.tsx';
import { EmptyState, ErrorState, LoadingState } from '../../components/States.tsx';
import { StatusBadge } from '../../components/StatusBadge.tsx';
import { formatDate } from '../../lib/format.ts';
import { adminApi } from './adminApi.ts';
import { cell, DataTable, Pill } from './ui.tsx';

export default function UsersPage() {
  const [draft, setDraft] = useState('');
  const [search, setSearch] = useState('');
  const query = useInfiniteQuery({
    queryKey: ['admin', 'users', search],
    queryFn: ({ pageParam }) => adminApi.users(search, pageParam),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
  const users = query.data?.pages.flatMap((page) => page.users) ?? [];
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    setSearch(draft.trim());
  };

  return (
    <div className="space-y-6">
      <div>
        <PageTitle>Users</PageTitle>
        <p className="mt-1 text-muted">Find an account, see its subscription, change its access.</p>
      </div>
      <Card>
        <form onSubmit={onSubmit} className="flex flex-col gap-3 sm:flex-row sm:items-end">
          <Field
            label="Search by email or name"
            hint="Matches the beginning of the email address or the name."
            type="search"
            name="search"
            maxLength={100}
            value={draft}
            onChange={(event) => setDraft(event.target.value)}
            className="flex-1"
          />
          <Button type="submit" className="sm:mb-7">
            Search
          </Button>
        </form>
      </Card>
      <Card title={search ? `Users matching “${search}”` : 'All users'}>
        {query.isPending ? (
          <LoadingState label="Loading users…" />
        ) : query.isError ? (
          <ErrorState
            error={query.error}
            onRetry={() => void query.refetch()}
            title="We could not load users"
          />
        ) : users.length === 0 ? (
          <EmptyState title="No users found">Try the start of an email address or a name.</EmptyState>
        ) : (
          <>
            <DataTable caption="Users, newest first" columns={['Email', 'Name', 'Plan', 'Access', 'Joined']}>
              {users.map((user) => (
                <tr key={user.id}>
                  <td className={cell}>
                    <Link
                      to={`/admin/users/${encodeURIComponent(user.id)}`}
                      className="font-medium underline"
                    >
                      {user.email}
                    </Link>
                  </td>
                  <td className={cell}>{user.name || '—'}</td>
                  <td className={cell}>
                    <StatusBadge status={user.subscription?.status ?? null} />
                  </td>
                  <td className={`${cell} space-x-1`}>
                    {user.deactivatedAt ? (
                      <Pill tone="danger">Deactivated</Pill>
                    ) : (
                      <Pill tone="ok">Active</Pill>
                    )}
                    {user.isStaff && <Pill tone="muted">Staff</Pill>}
                  </td>
                  <td className={cell}>{formatDate(user.createdAt)}</td>
                </tr>
              ))}
            </DataTable>
            <LoadMore query={query}>Load more users</LoadMore>
          </>
        )}
      </Card>
    </div>
  );
}
