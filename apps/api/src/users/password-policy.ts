import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import * as zxcvbnCommon from '@zxcvbn-ts/language-common';
import * as zxcvbnEn from '@zxcvbn-ts/language-en';
import { validationError } from '../errors.ts';

/** The shortest password accepted; Better Auth is given the same bound. */
export const MIN_PASSWORD_LENGTH = 8;
/** The longest (the contracts cap it too); bounds the hashing and zxcvbn work per request. */
export const MAX_PASSWORD_LENGTH = 128;
/** zxcvbn scores 0–4; 3 is "safely unguessable: moderate protection from offline attacks". */
const MIN_ZXCVBN_SCORE = 3;
/** Django's UserAttributeSimilarityValidator default: at or above this the password is refused. */
const MAX_SIMILARITY = 0.7;

/** Who the password belongs to: it must not be guessable from these. */
export interface PasswordOwner {
  email: string;
  name?: string | undefined;
}

// Built once: loading the dictionaries takes tens of milliseconds, checking afterwards a few.
let zxcvbn: ZxcvbnFactory | undefined;
function estimator(): ZxcvbnFactory {
  zxcvbn ??= new ZxcvbnFactory({
    dictionary: { ...zxcvbnCommon.dictionary, ...zxcvbnEn.dictionary },
    graphs: zxcvbnCommon.adjacencyGraphs,
    translations: zxcvbnEn.translations,
  });
  return zxcvbn;
}

/**
 * Every reason the password is refused, as messages to show beside the field; empty when it is
 * acceptable. The rules are the seed's (Django's validators) plus a strength estimate that knows
 * the owner's email and name.
 */
export function passwordProblems(password: string, owner: PasswordOwner): string[] {
  const problems: string[] = [];
  if (password.length < MIN_PASSWORD_LENGTH) {
    problems.push(`This password is too short. It must contain at least ${MIN_PASSWORD_LENGTH} characters.`);
  }
  if (password.length > MAX_PASSWORD_LENGTH) {
    problems.push(`This password is too long. It must contain at most ${MAX_PASSWORD_LENGTH} characters.`);
    // Nothing below is worth computing on an oversized input.
    return problems;
  }
  if (/^\d+$/.test(password)) problems.push('This password is entirely numeric.');
  if (isTooCloseToOwner(password, owner))
    problems.push('This password is too similar to your email address or name.');

  const result = estimator().check(password, ownerWords(owner));
  if (result.score < MIN_ZXCVBN_SCORE) {
    const hint = result.feedback.warning ? ` ${result.feedback.warning}` : '';
    problems.push(`This password is too easy to guess.${hint}`);
  }
  return problems;
}

/** Throws 400 VALIDATION_ERROR with `details[field]` when the password breaks the policy. */
export function assertPasswordPolicy(password: string, owner: PasswordOwner, field = 'password'): void {
  const problems = passwordProblems(password, owner);
  if (problems.length > 0) throw validationError({ [field]: problems }, 'The password is not strong enough.');
}

/** The email, its local part, the parts of both and the name's words, lowercased, 3+ chars. */
function ownerWords(owner: PasswordOwner): string[] {
  const email = owner.email.toLowerCase();
  const local = email.split('@')[0] ?? '';
  const words = new Set([email, local, ...local.split(/[\W_]+/)]);
  if (owner.name) {
    const name = owner.name.toLowerCase().trim();
    words.add(name);
    for (const part of name.split(/[\W_]+/u)) words.add(part);
  }
  return [...words].filter((word) => word.length >= 3);
}

function isTooCloseToOwner(password: string, owner: PasswordOwner): boolean {
  const candidate = password.toLowerCase();
  const email = owner.email.toLowerCase();
  const local = email.split('@')[0] ?? '';
  if (candidate.includes(email)) return true;
  if (local.length >= 3 && candidate.includes(local)) return true;
  return ownerWords(owner).some((word) => similarity(candidate, word) >= MAX_SIMILARITY);
}

/** 1 for equal strings, 0 for nothing in common: 1 − edit distance / longer length. */
export function similarity(a: string, b: string): number {
  const longer = Math.max(a.length, b.length);
  if (longer === 0) return 1;
  return 1 - levenshtein(a, b) / longer;
}

function levenshtein(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
