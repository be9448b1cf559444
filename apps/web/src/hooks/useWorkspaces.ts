import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useCallback } from 'react';
import { api } from '../api.ts';
import { useAuth } from './useAuth.ts';

export const ORGANIZATIONS_KEY = ['organizations'] as const;

export const organizationKey = (id: string) => ['organizations', id] as const;

/** The caller's workspaces, in the server's order; `enabled: false` until they are needed. */
export function useOrganizations({ enabled = true }: { enabled?: boolean } = {}) {
  const { isAuthenticated } = useAuth();
  return useQuery({
    queryKey: ORGANIZATIONS_KEY,
    queryFn: api.organizations,
    enabled: isAuthenticated && enabled,
    staleTime: 30_000,
    select: (data) => data.organizations,
  });
}

/**
 * Re-reads everything after the active workspace changed: the profile (its workspace, isPro), the
 * billing status and invoices, AI usage and the workspace list all describe the active workspace.
 * Only the public plan catalogue stays, and an invitation being accepted (its token is used up).
 */
export function useRefreshWorkspace(): () => Promise<void> {
  const queryClient = useQueryClient();
  return useCallback(
    () =>
      queryClient.invalidateQueries({
        predicate: (query) => query.queryKey[0] !== 'plans' && query.queryKey[0] !== 'invitation',
      }),
    [queryClient],
  );
}

/** POST …/activate, then the refresh above, so Pro and billing follow the workspace. */
export function useActivateWorkspace() {
  const refresh = useRefreshWorkspace();
  return useMutation({
    mutationFn: async (id: string) => {
      await api.activateOrganization(id);
      await refresh();
    },
  });
}

/** The active workspace from the profile, and whether the caller may act on its billing. */
export function useWorkspace() {
  const { profile } = useAuth();
  const workspace = profile?.workspace ?? null;
  // Billing actions need owner or admin; a personal workspace's only member is its owner.
  const canManageBilling = !workspace || workspace.personal || workspace.role !== 'member';
  return { workspace, canManageBilling };
}
