import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * One owner per table (issue 13, decision 32): a table's rows are read and written by the module
 * that owns it, and every other module goes through that module's functions. The tables whose
 * rules matter most across modules (subscriptions, the email outbox, sessions, webhook events,
 * profiles) have a repository file of their own; the rest belong to a folder.
 *
 * What is checked is the import of a table's drizzle object from `db/schema`: a module that cannot
 * name a table cannot query it.
 */
const src = path.resolve(import.meta.dirname, '../src');

/** Table (its export in db/schema) → the file or folder (relative to src/) that owns it. */
const OWNERS: Record<string, string> = {
  subscriptions: 'billing/subscriptions.ts',
  webhookEvents: 'billing/webhook-events.ts',
  stripePrices: 'billing/',
  reconciliationRuns: 'billing/',
  emailOutbox: 'email/outbox.ts',
  sessions: 'users/sessions.ts',
  profiles: 'users/profile.ts',
  users: 'users/',
  accounts: 'users/',
  verifications: 'users/',
  twoFactors: 'users/',
  passkeys: 'users/',
  passkeyChallenges: 'users/',
  organizations: 'organizations/',
  organizationMembers: 'organizations/',
  organizationInvitations: 'organizations/',
  aiRequests: 'ai/',
  adminAuditLog: 'admin/',
};

/**
 * Uses of another module's table that stay, each with its reason. `file → tables`.
 */
const ALLOWED: Record<string, { tables: string[]; why: string }> = {
  'users/auth.ts': {
    tables: ['sessions', 'profiles'],
    why: "Better Auth's drizzle adapter is handed the tables it stores sessions in; its sign-up hook makes the profile in the same transaction",
  },
  'users/sessions.ts': {
    tables: ['profiles', 'subscriptions', 'organizations', 'organizationMembers'],
    why: 'the session read on every request is one indexed query (decision 32): it joins, read-only, the profile, the active workspace and its subscription',
  },
};

/**
 * Uses of another module's table not moved behind its owner yet (issue 13): table → files. Only
 * ever shrinks; the test below fails when an entry is no longer needed, so the list stays true.
 */
const NOT_MOVED_YET: Record<string, string[]> = {
  subscriptions: [
    'admin/queries.ts',
    'billing/checkout.ts',
    'billing/dunning.ts',
    'billing/erasure.ts',
    'billing/reconcile.ts',
    'billing/subscription-sync.ts',
    'organizations/service.ts',
    'privacy/service.ts',
    'users/profile.ts',
  ],
  webhookEvents: ['admin/queries.ts', 'billing/erasure.ts', 'billing/webhooks.ts'],
  emailOutbox: [
    'admin/queries.ts',
    'billing/dunning.ts',
    'email/delivery.ts',
    'http/metrics.ts',
    'privacy/service.ts',
  ],
  sessions: [
    'admin/actions.ts',
    'admin/queries.ts',
    'organizations/service.ts',
    'organizations/workspaces.ts',
    'privacy/service.ts',
  ],
  profiles: ['billing/checkout.ts', 'billing/subscription-sync.ts', 'privacy/service.ts'],
  users: [
    'admin/actions.ts',
    'admin/queries.ts',
    'billing/dunning.ts',
    'organizations/invitations.ts',
    'organizations/service.ts',
    'privacy/service.ts',
  ],
  accounts: ['privacy/service.ts'],
  verifications: ['privacy/service.ts'],
  passkeys: ['privacy/service.ts'],
  organizations: [
    'admin/queries.ts',
    'billing/reconcile.ts',
    'billing/subscription-sync.ts',
    'privacy/service.ts',
    'users/profile.ts',
  ],
  organizationMembers: [
    'admin/queries.ts',
    'billing/checkout.ts',
    'billing/dunning.ts',
    'billing/seats.ts',
    'billing/subscription-sync.ts',
    'privacy/service.ts',
  ],
  organizationInvitations: ['privacy/service.ts', 'users/sessions.ts'],
  aiRequests: ['admin/queries.ts', 'privacy/service.ts'],
};

/** The table exports each source file imports from db/schema. */
function schemaImports(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  const names: string[] = [];
  for (const match of text.matchAll(/import\s*\{([^}]*)\}\s*from\s*'[^']*db\/schema[^']*'/g)) {
    for (const part of match[1]!.split(',')) {
      const name = part.trim();
      if (!name || name.startsWith('type ')) continue;
      names.push(name.split(/\s+as\s+/)[0]!.trim());
    }
  }
  return names.filter((name) => name in OWNERS);
}

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'db' ? [] : sourceFiles(full);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [full] : [];
  });
}

function owns(owner: string, file: string): boolean {
  return owner.endsWith('/') ? file.startsWith(owner) : file === owner;
}

describe('table ownership', () => {
  it('every table in db/schema has an owner', async () => {
    const schema = await import('../src/db/schema/index.ts');
    const tables = Object.entries(schema)
      .filter(
        ([, value]) =>
          typeof value === 'object' && value !== null && Symbol.for('drizzle:IsDrizzleTable') in value,
      )
      .map(([name]) => name);
    expect(tables.length).toBeGreaterThan(10);
    expect(tables.filter((name) => !(name in OWNERS))).toEqual([]);
  });

  it("no module reads or writes another module's table", () => {
    const trespasses: string[] = [];
    for (const full of sourceFiles(src)) {
      const file = path.relative(src, full).split(path.sep).join('/');
      for (const table of schemaImports(full)) {
        if (owns(OWNERS[table]!, file) || ALLOWED[file]?.tables.includes(table)) continue;
        if (NOT_MOVED_YET[table]?.includes(file)) continue;
        trespasses.push(`${file} uses ${table} (owned by ${OWNERS[table]})`);
      }
    }
    expect(trespasses).toEqual([]);
  });

  it('each exception is still needed', () => {
    for (const [file, { tables }] of Object.entries(ALLOWED)) {
      const used = schemaImports(path.join(src, file));
      for (const table of tables) expect(used, `${file} still uses ${table}`).toContain(table);
    }
    for (const [table, files] of Object.entries(NOT_MOVED_YET)) {
      for (const file of files) {
        expect(schemaImports(path.join(src, file)), `${file} still uses ${table}`).toContain(table);
      }
    }
  });
});
