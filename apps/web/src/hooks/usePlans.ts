import { useQuery } from '@tanstack/react-query';
import { api } from '../api.ts';

/** The public plan catalogue; it changes with a deploy, so it is cached for the visit. */
export function usePlans() {
  return useQuery({
    queryKey: ['plans'],
    queryFn: api.plans,
    staleTime: 10 * 60_000,
    select: (data) => data.plans,
  });
}
