import { useQuery } from '@tanstack/react-query';
import { isOAuthErrorCode, OAUTH_ERROR_MESSAGES } from '@tierbase/contracts';
import { useSearchParams } from 'react-router';
import { api, oauthStartUrl } from '../api.ts';
import { FormError } from './AuthShell.tsx';
import { buttonClass } from './Button.tsx';
import { Card } from './Card.tsx';

/**
 * "Continue with GitHub / Google": one link per provider the server has configured (none, and
 * nothing shows). Links, not buttons: the browser leaves for the provider and comes back.
 */
export function OAuthButtons({ next, divider = true }: { next: string; divider?: boolean }) {
  const providers = useQuery({
    queryKey: ['oauth-providers'],
    queryFn: api.oauthProviders,
    // Configuration changes with a deploy only.
    staleTime: Number.POSITIVE_INFINITY,
    select: (data) => data.providers,
  });
  if (!providers.data?.length) return null;
  return (
    <div className={divider ? 'mt-6' : 'mt-3'}>
      {/* Off where another way to sign in above already drew the "or". */}
      {divider && (
        <div className="mb-6 flex items-center gap-3 text-sm text-muted" aria-hidden="true">
          <span className="h-px flex-1 bg-line" />
          or
          <span className="h-px flex-1 bg-line" />
        </div>
      )}
      <ul className="space-y-3">
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

/** Settings: how the account can sign in (a password, linked providers). */
export function SignInMethodsCard() {
  const methods = useQuery({ queryKey: ['sign-in-methods'], queryFn: api.signInMethods });
  if (!methods.data) return null;
  const { password, providers } = methods.data;
  return (
    <Card title="Sign-in methods">
      <ul className="space-y-2 text-sm">
        <li className="flex justify-between gap-4">
          <span className="font-medium">Password</span>
          <span className={password ? 'text-ok' : 'text-muted'}>{password ? 'Set' : 'Not set'}</span>
        </li>
        {providers.map((provider) => (
          <li key={provider.id} className="flex justify-between gap-4">
            <span className="font-medium">{provider.name}</span>
            <span className="text-ok">Connected</span>
          </li>
        ))}
      </ul>
      {!password && (
        <p className="mt-3 text-sm text-muted">
          To sign in with a password too, use “Forgot your password?” on the sign-in page to set one.
        </p>
      )}
    </Card>
  );
}
