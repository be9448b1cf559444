import fs from 'node:fs';
import path from 'node:path';
import lockfile from 'proper-lockfile';

/**
 * PGlite is one process's database: two processes opening the same folder (a running server and
 * `npm run cli -- create-admin`) each see their own copy and one of them loses its writes. Every
 * process that opens the embedded database in DATA_DIR holds this lock first; the second one is
 * refused with a message saying why. The lock is a directory whose mtime the holder refreshes, so
 * one left behind by a killed process goes stale and is taken over (proper-lockfile).
 */
const STALE_MS = 20_000;
const UPDATE_MS = 5_000;

export class DataDirInUseError extends Error {
  constructor(dataDir: string, holder: string | undefined) {
    super(
      `The embedded database in ${dataDir} is in use by another process${holder ? ` (${holder})` : ''}. ` +
        'PGlite allows one process at a time: stop the running server (or command) first, or use ' +
        'PostgreSQL through DATABASE_URL, which any number of processes can share.',
    );
    this.name = 'DataDirInUseError';
  }
}

/**
 * Takes the data folder's lock, or throws DataDirInUseError. `waitMs`: how long to wait for a
 * holder that may be gone (a server restarted right after a crash); 0 refuses at once.
 */
export async function lockDataDir(
  dataDir: string,
  options: { waitMs?: number } = {},
): Promise<() => Promise<void>> {
  fs.mkdirSync(dataDir, { recursive: true });
  const ownerFile = path.join(dataDir, 'pglite.owner');
  const waitMs = options.waitMs ?? 0;
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(dataDir, {
      lockfilePath: path.join(dataDir, 'pglite.lock'),
      stale: STALE_MS,
      update: UPDATE_MS,
      retries: waitMs > 0 ? { retries: Math.ceil(waitMs / 1000), factor: 1, minTimeout: 1000 } : 0,
      // A lock refreshed too late (the event loop was blocked for longer than STALE_MS) must not
      // crash the server; say so, since another process may have taken the folder meanwhile.
      onCompromised: (error) =>
        process.stderr.write(`Warning: lost the lock on ${dataDir}: ${error.message}\n`),
    });
  } catch (error) {
    if ((error as { code?: string }).code === 'ELOCKED') {
      throw new DataDirInUseError(dataDir, readOwner(ownerFile));
    }
    throw error;
  }
  fs.writeFileSync(ownerFile, `pid ${process.pid}: ${path.basename(process.argv[1] ?? 'node')}\n`);
  return async () => {
    fs.rmSync(ownerFile, { force: true });
    await release();
  };
}

function readOwner(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}
