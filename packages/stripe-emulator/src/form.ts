import qs from 'qs';
import { invalidRequest } from './errors.ts';

/** Request parameters as decoded from Stripe's form encoding (`a[b][0][c]=v`): strings, arrays, objects. */
export type Params = Record<string, unknown>;

const PARSE_OPTIONS = { arrayLimit: 1000, depth: 20, parameterLimit: 10_000 } as const;

export function parseForm(body: string): Params {
  return qs.parse(body, PARSE_OPTIONS) as Params;
}

export function encodeForm(data: Record<string, unknown>): string {
  return qs.stringify(data, { arrayFormat: 'indices' });
}

export function str(params: Params, key: string): string | undefined {
  const value = params[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalidRequest(`Invalid string: ${key}`, key);
  return value;
}

/** Like `str`, but Stripe's empty string means "unset" (null). */
export function nullableStr(params: Params, key: string): string | null | undefined {
  const value = str(params, key);
  if (value === undefined) return undefined;
  return value === '' ? null : value;
}

export function int(params: Params, key: string): number | undefined {
  const value = str(params, key);
  if (value === undefined || value === '') return undefined;
  if (!/^-?\d+$/.test(value)) throw invalidRequest(`Invalid integer: ${value}`, key);
  return Number.parseInt(value, 10);
}

export function bool(params: Params, key: string): boolean | undefined {
  const value = str(params, key);
  if (value === undefined) return undefined;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw invalidRequest(`Invalid boolean: ${value}`, key);
}

export function obj(params: Params, key: string): Params | undefined {
  const value = params[key];
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidRequest(`Invalid object`, key);
  }
  return value as Params;
}

/** Arrays arrive as `k[0]=…` (parsed as an array) or, when sparse, as an object keyed by index. */
export function arr(params: Params, key: string): unknown[] | undefined {
  const value = params[key];
  if (value === undefined || value === '') return undefined;
  if (Array.isArray(value)) return value;
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value)
      .sort(([a], [b]) => Number(a) - Number(b))
      .map(([, v]) => v);
  }
  throw invalidRequest(`Invalid array`, key);
}

export function strArr(params: Params, key: string): string[] | undefined {
  const value = arr(params, key);
  if (value === undefined) return undefined;
  return value.map((v) => {
    if (typeof v !== 'string') throw invalidRequest('Invalid array of strings', key);
    return v;
  });
}

/** Stripe's metadata update semantics: keys merge, an empty value deletes a key, `metadata=` clears all. */
export function mergeMetadata(current: Record<string, string>, params: Params): Record<string, string> {
  const raw = params.metadata;
  if (raw === undefined) return current;
  if (raw === '') return {};
  if (typeof raw !== 'object' || raw === null) throw invalidRequest('Invalid metadata', 'metadata');
  const next = { ...current };
  for (const [key, value] of Object.entries(raw)) {
    if (typeof value !== 'string') throw invalidRequest('Invalid metadata value', `metadata[${key}]`);
    if (value === '') delete next[key];
    else next[key] = value;
  }
  return next;
}

export function expandList(params: Params): string[] {
  return strArr(params, 'expand') ?? [];
}

/** A URL parameter that must be http(s), as Stripe requires; hosted pages link to it. */
export function httpUrl(params: Params, key: string): string | undefined {
  const value = str(params, key);
  if (value === undefined) return undefined;
  let protocol = '';
  try {
    protocol = new URL(value).protocol;
  } catch {
    // fall through to the error below
  }
  if (protocol !== 'http:' && protocol !== 'https:')
    throw invalidRequest('Not a valid URL', key, 'url_invalid');
  return value;
}
