import { useEffect, useState } from 'react';
import { useLocation, useNavigate } from 'react-router';

/**
 * The token of an emailed link: from the fragment (`#token=…`), where the emails put it because a
 * browser never sends a fragment to a server (no access log, proxy or Referer sees it), or from
 * `?token=` for links sent before that.
 */
function tokenIn(hash: string, search: string): string | null {
  return new URLSearchParams(hash.replace(/^#/, '')).get('token') ?? new URLSearchParams(search).get('token');
}

/**
 * Reads the link's token once and takes it out of the address bar, so the single-use secret does
 * not stay in the history, in bookmarks, or on screen in a screenshot.
 */
export function useTokenFromUrl(): string | null {
  const location = useLocation();
  const navigate = useNavigate();
  const [token] = useState(() => tokenIn(location.hash, location.search));
  useEffect(() => {
    if (tokenIn(location.hash, location.search) !== null) {
      navigate(location.pathname, { replace: true });
    }
  }, [location.pathname, location.search, location.hash, navigate]);
  return token;
}
