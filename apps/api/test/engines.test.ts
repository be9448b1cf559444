import fs from 'node:fs';
import path from 'node:path';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

/**
 * Every package the lockfile installs must run on every Node version the project promises
 * (package.json `engines.node`): otherwise `npm install` warns EBADENGINE and the oldest supported
 * Node fails at run time, far from the dependency bump that caused it.
 */
const root = path.resolve(import.meta.dirname, '../../..');

interface LockPackage {
  version?: string;
  engines?: { node?: string } | string[];
}

describe('Node version support', () => {
  it("every locked package accepts every Node version in the project's engines range", () => {
    const declared = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).engines?.node;
    expect(declared, 'package.json declares engines.node').toBeTypeOf('string');
    expect(semver.validRange(declared), `${declared} is a valid range`).not.toBeNull();

    const lock = JSON.parse(fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, LockPackage>;
    };
    // The lockfile must have been refreshed after engines changed (npm copies it there).
    const rootEngines = lock.packages['']?.engines;
    expect(rootEngines && !Array.isArray(rootEngines) ? rootEngines.node : undefined).toBe(declared);

    const refused: string[] = [];
    for (const [location, entry] of Object.entries(lock.packages)) {
      if (!location) continue;
      // Old packages may state engines as an array; only the object form names a Node range.
      const range = entry.engines && !Array.isArray(entry.engines) ? entry.engines.node : undefined;
      if (!range) continue;
      const valid = semver.validRange(range) !== null;
      if (!valid || !semver.subset(declared, range)) {
        refused.push(`${location.replace(/^.*node_modules\//, '')}@${entry.version}: node ${range}`);
      }
    }
    expect(refused, `packages that refuse part of node ${declared}`).toEqual([]);
  });
});
