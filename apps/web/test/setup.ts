import '@testing-library/jest-dom/vitest';
import { cleanup, configure } from '@testing-library/react';
import { afterEach } from 'vitest';
import { resetCsrfToken } from '../src/api.ts';

// Pages are lazy-loaded chunks: on a busy CI machine their first render can take longer than
// Testing Library's 1 s default for `findBy…`/`waitFor`, which made tests fail on load, not on defects.
configure({ asyncUtilTimeout: 4000 });

afterEach(() => {
  cleanup();
  resetCsrfToken();
  sessionStorage.clear();
});
