import { useQuery } from '@tanstack/react-query';
import { isOAuthErrorCode, OAUTH_ERROR_MESSAGES } from '@tierbase/contracts';
import { useSearchParams } from 'react-router';
import { api, oauthStartUrl } from '../api.ts';
import { FormError } from './AuthShell.tsx';
import { buttonClass } from './Button.tsx';

/**
 * "Continue with GitHub / Google": one link per provider the server has configured (none, and
 * nothing shows). Links, not buttons: the browser leaves for the provider and comes back.
 */
export function OAuthButtons({ next }: { next: string }) {
  const providers = useQuery({
    queryKey: ['oauth-providers'],
    queryFn: api.oauthProviders,
    // Configuration changes with a deploy only.
    staleTime: Number.POSITIVE_INFINITY,
    select: (data) => data.providers,
  });
  if (!providers.data?.length) return null;
  return (
    <div className="mt-6">
      <div className="flex items-center gap-3 text-sm text-muted" aria-hidden="true">
        <span className="h-px flex-1 bg-line" />
        or
        <span className="h-px flex-1 bg-line" />
      </div>
      <ul className="mt-6 space-y-3">
        {providers.data.map((provider) => (
          <li key={provider.id}>
            <a className={buttonClass('secondary', 'lg', 'w-full')} href={oauthStartUrl(provider.id, next)}>
              Continue with {provider.name}
            </a>
          </li>
        ))}
      </ul>
    </div>
  );
}

/** Why the last OAuth sign-in failed, from /login?error=<code> (unknown codes show nothing). */
export function OAuthError() {
  const [params] = useSearchParams();
  const code = params.get('error');
  return <FormError message={isOAuthErrorCode(code) ? OAUTH_ERROR_MESSAGES[code] : null} />;
}
