export * from './admin.ts';
export * from './ai.ts';
export * from './billing.ts';
export * from './cursor.ts';
export * from './envelope.ts';
export * from './errors.ts';
export * from './pages.ts';
export * from './users.ts';
