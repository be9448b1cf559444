/**
 * Reads the V8 CPU profiles the server wrote under `--cpu-prof` and prints where the time went:
 * self time by where the code lives (our source file through dist/server.js's source map, or the
 * npm package, or Node's own internals), inclusive time per source file of ours (a hook's file
 * covers everything it calls: the session hook includes its query), and the heaviest functions.
 */
import fs from 'node:fs';
import { SourceMap } from 'node:module';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

interface Place {
  /** Where the frame's code lives: `src/users/plugin.ts`, `pino`, `node:internal`, `(gc)`. */
  bucket: string;
  /** Our own source file, when the frame is ours. */
  source: string | undefined;
  label: string;
}

const sourceMaps = new Map<string, SourceMap | null>();

function sourceMapFor(url: string): SourceMap | null {
  if (sourceMaps.has(url)) return sourceMaps.get(url) ?? null;
  let map: SourceMap | null = null;
  try {
    const file = new URL(url).pathname;
    map = new SourceMap(JSON.parse(fs.readFileSync(`${file}.map`, 'utf8')));
  } catch {
    map = null;
  }
  sourceMaps.set(url, map);
  return map;
}

function packageOf(url: string): string | undefined {
  const at = url.lastIndexOf('node_modules/');
  if (at < 0) return undefined;
  const rest = url.slice(at + 'node_modules/'.length).split('/');
  return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
}

function placeOf(frame: ProfileNode['callFrame']): Place {
  const name = frame.functionName || '(anonymous)';
  if (!frame.url) {
    const special = ['(garbage collector)', '(idle)', '(program)', '(root)'];
    return { bucket: special.includes(name) ? name : 'node (native)', source: undefined, label: name };
  }
  if (frame.url.startsWith('node:')) {
    return { bucket: 'node (runtime)', source: undefined, label: `${name} ${frame.url}` };
  }
  const pkg = packageOf(frame.url);
  if (pkg) return { bucket: pkg, source: undefined, label: `${name} (${pkg})` };
  const map = frame.url.endsWith('.js') ? sourceMapFor(frame.url) : null;
  const entry = map?.findEntry(frame.lineNumber, frame.columnNumber);
  if (entry && 'originalSource' in entry && entry.originalSource) {
    const original = entry.originalSource
      .replace(/^.*?\/(apps|packages)\//, '$1/')
      .replace(/^(\.\.\/)+src\//, 'apps/api/src/');
    const bundledPkg = packageOf(entry.originalSource);
    const bucket = bundledPkg ?? original;
    return {
      bucket,
      source: bundledPkg ? undefined : original,
      label: `${name} ${original}:${entry.originalLine + 1}`,
    };
  }
  return { bucket: path.basename(frame.url), source: undefined, label: `${name} ${frame.url}` };
}

interface Summary {
  totalMs: number;
  busyMs: number;
  selfByBucket: Map<string, number>;
  inclusiveBySource: Map<string, number>;
  selfByFunction: Map<string, number>;
  /** Each sample charged to the nearest frame up its stack that is a package or ours. */
  byOwner: Map<string, number>;
}

export function summarize(files: string[]): Summary {
  const summary: Summary = {
    totalMs: 0,
    busyMs: 0,
    selfByBucket: new Map(),
    inclusiveBySource: new Map(),
    selfByFunction: new Map(),
    byOwner: new Map(),
  };
  const add = (map: Map<string, number>, key: string, ms: number) => map.set(key, (map.get(key) ?? 0) + ms);
  for (const file of files) {
    const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
    const byId = new Map(profile.nodes.map((node) => [node.id, node]));
    const parent = new Map<number, number>();
    for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
    const places = new Map(profile.nodes.map((node) => [node.id, placeOf(node.callFrame)]));
    for (let i = 0; i < profile.samples.length; i++) {
      const ms = (profile.timeDeltas[i] ?? 0) / 1000;
      const id = profile.samples[i]!;
      const place = places.get(id)!;
      summary.totalMs += ms;
      if (place.bucket === '(idle)') continue;
      summary.busyMs += ms;
      add(summary.selfByBucket, place.bucket, ms);
      add(summary.selfByFunction, place.label, ms);
      let owner = place.bucket;
      for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
        const bucket = places.get(at)?.bucket ?? '';
        if (!bucket.startsWith('node (') && !bucket.startsWith('(')) {
          owner = bucket;
          break;
        }
      }
      add(summary.byOwner, owner, ms);
      const seen = new Set<string>();
      for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
        const source = places.get(at)?.source;
        if (source && !seen.has(source)) {
          seen.add(source);
          add(summary.inclusiveBySource, source, ms);
        }
        if (!byId.has(at)) break;
      }
    }
  }
  return summary;
}

export function formatSummary(summary: Summary, top = 15): string {
  const pct = (ms: number) => `${((100 * ms) / summary.busyMs).toFixed(1)}%`;
  const table = (title: string, map: Map<string, number>) => {
    const rows = [...map.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
    return [`${title}`, ...rows.map(([key, ms]) => `  ${pct(ms).padStart(6)}  ${key}`)].join('\n');
  };
  return [
    `CPU profile: ${(summary.busyMs / 1000).toFixed(1)} s busy of ${(summary.totalMs / 1000).toFixed(1)} s sampled (percentages of busy time)`,
    table('Self time by where the code lives:', summary.selfByBucket),
    table(
      "Charged to the nearest package or file of ours on the stack (Node's own work to its caller):",
      summary.byOwner,
    ),
    table('Inclusive time by our source file (a hook with everything it calls):', summary.inclusiveBySource),
    table('Heaviest functions (self time):', summary.selfByFunction),
  ].join('\n\n');
}

// `node --import tsx apps/api/bench/cpu-profile.ts <file.cpuprofile>…`
if (process.argv[1] && import.meta.filename === path.resolve(process.argv[1])) {
  const files = process.argv.slice(2);
  if (files.length === 0) {
    process.stderr.write('Usage: node --import tsx apps/api/bench/cpu-profile.ts <file.cpuprofile>…\n');
    process.exit(2);
  }
  process.stdout.write(`${formatSummary(summarize(files), 25)}\n`);
}
