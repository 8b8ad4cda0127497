/**
 * A verified token's claims → an Identity (issue 16, "Claims"):
 *
 *     {"sub":"u42","name":"Ann","exp":1767225600,
 *      "wallcast":{"read":["team-*"],"post":["team-*","main"],"moderate":["team-ops"]}}
 *
 * The signature and the times were checked before (token-verifier.ts); this
 * checks the shape, and refuses what it cannot use as `token_invalid` with
 * a message saying which claim and why.
 */
import { MAX_AUTHOR_CHARS } from '../message.js';
import { checkAuthorName, codePoints, LONE_SURROGATE } from '../plain-text.js';
import { AuthFailure } from './auth-failure.js';
import type { Action, Identity } from './identity.js';
import { parseWallPattern, WallPatternError, WallPatterns } from './wall-patterns.js';

/** The longest `sub`, in code points. */
export const MAX_SUB_CHARS = 255;

/**
 * Patterns one token may grant, all actions together. A token is checked
 * against its patterns on every request and stream: the bound keeps that
 * cheap, and a token that needs more should use `*` patterns.
 */
export const MAX_GRANT_PATTERNS = 100;

const ACTIONS: readonly Action[] = ['read', 'post', 'moderate'];

const invalid = (message: string) => new AuthFailure('token_invalid', message);

/** `payload` is the verified claims set; `exp` is known to be a number. */
export function identityFromClaims(payload: Record<string, unknown>, via: 'bearer' | 'cookie'): Identity {
  const sub = parseSub(payload.sub);
  // JSON's 1e400 is Infinity: a token that never expires is no short-lived token (and no timer could wait for it).
  if (!Number.isFinite(payload.exp))
    throw invalid('The token\'s "exp" claim must be a finite time (seconds since 1970).');
  return {
    sub,
    name: parseName(payload.name, sub),
    grants: parseGrants(payload.wallcast),
    expiresAtMs: (payload.exp as number) * 1000,
    via,
  };
}

function parseSub(raw: unknown): string {
  if (raw === undefined)
    throw invalid('The token has no "sub" claim: it must say who it is for (1 to 255 characters).');
  if (typeof raw !== 'string' || raw === '' || codePoints(raw) > MAX_SUB_CHARS) {
    throw invalid(`The token's "sub" claim must be text of 1 to ${MAX_SUB_CHARS} characters.`);
  }
  if (/[\u0000-\u001f\u007f]/.test(raw) || LONE_SURROGATE.test(raw)) {
    throw invalid('The token\'s "sub" claim contains a control character or a lone UTF-16 surrogate.');
  }
  return raw;
}

/**
 * `name` as an author is validated (posting.ts). Without one, the `sub` is
 * shown, cut to the author limit: a `sub` may be 255 characters, an author 64.
 */
function parseName(raw: unknown, sub: string): string {
  if (raw === undefined) return [...sub].slice(0, MAX_AUTHOR_CHARS).join('').trim();
  if (typeof raw !== 'string') throw invalid('The token\'s "name" claim must be text.');
  const checked = checkAuthorName(raw);
  if ('name' in checked) return checked.name;
  if (checked.problem === 'control_character') throw invalid('The token\'s "name" claim contains a control character.');
  throw invalid(`The token's "name" claim is longer than ${MAX_AUTHOR_CHARS} characters.`);
}

/** The `wallcast` claim; absent, the token grants nothing (it can still read and post where anyone may). */
function parseGrants(raw: unknown): Identity['grants'] {
  if (raw === undefined) return { read: WallPatterns.none, post: WallPatterns.none, moderate: WallPatterns.none };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw invalid('The token\'s "wallcast" claim must be an object such as {"read":["team-*"],"post":["main"]}.');
  }
  const claim = raw as Record<string, unknown>;
  // Counted before any pattern is parsed, so an oversized token costs no work.
  let count = 0;
  for (const action of ACTIONS) {
    const list = claim[action];
    if (list === undefined) continue;
    if (!Array.isArray(list) || list.some((entry) => typeof entry !== 'string')) {
      throw invalid(`The token's "wallcast.${action}" claim must be a list of wall patterns (text).`);
    }
    count += list.length;
  }
  if (count > MAX_GRANT_PATTERNS) {
    throw invalid(
      `The token grants ${count} wall patterns; at most ${MAX_GRANT_PATTERNS} are allowed (use * patterns).`,
    );
  }
  const patterns = (action: Action): WallPatterns => {
    const list = (claim[action] ?? []) as string[];
    try {
      return new WallPatterns(list.map(parseWallPattern));
    } catch (error) {
      if (!(error instanceof WallPatternError)) throw error;
      throw invalid(`The token's "wallcast.${action}" claim has a bad pattern: ${error.message}.`);
    }
  };
  return { read: patterns('read'), post: patterns('post'), moderate: patterns('moderate') };
}
