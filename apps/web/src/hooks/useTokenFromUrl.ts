import { useEffect, useState } from 'react';
import { useLocation, useNavigate } from 'react-router';

/**
 * Reads `?token=` once and takes it out of the address bar, so the single-use secret does not stay
 * in the history, in bookmarks, or on screen in a screenshot.
 */
export function useTokenFromUrl(): string | null {
  const location = useLocation();
  const navigate = useNavigate();
  const [token] = useState(() => new URLSearchParams(location.search).get('token'));
  useEffect(() => {
    if (new URLSearchParams(location.search).has('token')) {
      navigate(location.pathname, { replace: true });
    }
  }, [location.pathname, location.search, navigate]);
  return token;
}
