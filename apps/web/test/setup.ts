import '@testing-library/jest-dom/vitest';
import { cleanup } from '@testing-library/react';
import { afterEach } from 'vitest';
import { resetCsrfToken } from '../src/api.ts';

afterEach(() => {
  cleanup();
  resetCsrfToken();
  sessionStorage.clear();
});
