import { useQuery, useQueryClient } from '@tanstack/react-query';
import type {
  LoginRequest,
  Profile,
  RegisterRequest,
  RegisterResponse,
  TwoFactorChallenge,
  User,
} from '@tierbase/contracts';
import { createContext, type ReactNode, useCallback, useEffect, useMemo } from 'react';
import { api, isApiError, setApiEvents } from '../api.ts';

export interface AuthContextValue {
  currentUser: User | null;
  /** The whole profile: user, isPro and the subscription summary. */
  profile: Profile | null;
  isAuthenticated: boolean;
  /** True while the session is being restored on load. */
  isLoading: boolean;
  /** Set when the session could not be checked (server unreachable), not when signed out. */
  sessionError: unknown;
  /** Signs in, or answers the challenge when the account asks for a code next (`loginTwoFactor`). */
  login(body: LoginRequest): Promise<Profile | TwoFactorChallenge>;
  /** The second step of a sign-in with two-factor on. */
  loginTwoFactor(code: string): Promise<Profile>;
  /** Starts no session: the link in the verification email signs the new user in. */
  register(body: RegisterRequest): Promise<RegisterResponse>;
  logout(): Promise<void>;
  setUser(profile: Profile | null): void;
  refreshProfile(): Promise<void>;
}

export const AuthContext = createContext<AuthContextValue | null>(null);

export const PROFILE_KEY = ['profile'] as const;

/** GET /api/profile/, with "not signed in" as a value (null) rather than an error. */
async function restoreSession(): Promise<Profile | null> {
  try {
    return await api.profile();
  } catch (error) {
    if (isApiError(error) && error.code === 'AUTHENTICATION_REQUIRED') return null;
    throw error;
  }
}

export function AuthProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const query = useQuery({
    queryKey: PROFILE_KEY,
    queryFn: restoreSession,
    staleTime: 60_000,
    retry: (count, error) => count < 2 && isApiError(error) && error.code === 'NETWORK_ERROR',
  });

  const setUser = useCallback(
    (profile: Profile | null) => {
      if (profile === null) {
        // Everything cached belongs to the previous user; only public data survives: the plans,
        // and an invitation's preview (the link's, read before anyone signs in).
        const kept = new Set(['plans', 'profile', 'invitation']);
        queryClient.removeQueries({ predicate: (q) => !kept.has(String(q.queryKey[0])) });
      }
      queryClient.setQueryData(PROFILE_KEY, profile);
    },
    [queryClient],
  );

  // A 401 from any request means the session is gone: clear the user everywhere.
  useEffect(() => setApiEvents({ onUnauthorized: () => setUser(null) }), [setUser]);

  const value = useMemo<AuthContextValue>(() => {
    const profile = query.data ?? null;
    return {
      currentUser: profile?.user ?? null,
      profile,
      isAuthenticated: profile !== null,
      isLoading: query.isPending,
      sessionError: query.data === undefined ? query.error : null,
      login: async (body) => {
        const next = await api.login(body);
        if ('twoFactorRequired' in next) return next;
        setUser(null);
        setUser(next);
        return next;
      },
      loginTwoFactor: async (code) => {
        const next = await api.loginTwoFactor(code);
        setUser(null);
        setUser(next);
        return next;
      },
      register: (body) => api.register(body),
      logout: async () => {
        try {
          await api.logout();
        } finally {
          setUser(null);
        }
      },
      setUser,
      refreshProfile: async () => {
        await queryClient.invalidateQueries({ queryKey: PROFILE_KEY });
      },
    };
  }, [query.data, query.isPending, query.error, queryClient, setUser]);

  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}
