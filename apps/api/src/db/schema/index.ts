export * from './admin.ts';
export * from './ai.ts';
export * from './auth.ts';
export * from './billing.ts';
export * from './email.ts';
export * from './organizations.ts';
