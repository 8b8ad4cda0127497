/**
 * Which walls need what (issue 16, "Which walls need what"): the one place
 * that decides, from the settings and the request's Identity (if any),
 * whether an action on some walls is allowed.
 *
 * - `read` of a wall matching WALLCAST_PRIVATE_WALLS needs a read grant for
 *   it; every other wall is readable by anyone, as before.
 * - `post`, with a key configured, needs a post grant, except on walls
 *   matching WALLCAST_OPEN_WALLS, where anyone may post anonymously. With no
 *   key configured, posting is as before (the publish token, if set, is
 *   checked by posting.ts, not here).
 * - `moderate` needs a moderate grant (the admin token is checked by the
 *   route, not here).
 *
 * A refusal names every refused wall at once: a several-wall stream with
 * three private walls it may not read gets one 403 naming the three.
 * Without an identity the refusal is `token_missing`; with one,
 * `insufficient_scope`. Private walls without a key are refused at start
 * (settings.ts), so every private wall here can be opened by some token.
 */
import { AuthFailure, listNames } from './auth-failure.js';
import { type Action, can, type Identity } from './identity.js';
import type { WallPatterns } from './wall-patterns.js';

export interface AccessSettings {
  /** Whether a key setting is given (WALLCAST_JWT_SECRET, _PUBLIC_KEY or WALLCAST_JWKS_URL). */
  keyConfigured: boolean;
  /** WALLCAST_PRIVATE_WALLS. */
  privateWalls: WallPatterns;
  /** WALLCAST_OPEN_WALLS. */
  openWalls: WallPatterns;
}

const VERB: Record<Action, string> = { read: 'read', post: 'post to', moderate: 'moderate' };
const GERUND: Record<Action, string> = { read: 'Reading', post: 'Posting to', moderate: 'Moderating' };

export class AccessPolicy {
  constructor(readonly settings: AccessSettings) {}

  /** Whether reading the wall needs a grant: its stream, history, messages, page and presence. */
  isPrivate(wall: string): boolean {
    return this.settings.privateWalls.matches(wall);
  }

  /** Whether `action` on `wall` needs an identity at all. */
  needsIdentity(action: Action, wall: string): boolean {
    if (action === 'read') return this.isPrivate(wall);
    if (action === 'post') return this.settings.keyConfigured && !this.settings.openWalls.matches(wall);
    return true;
  }

  /** Walls of `walls` that `identity` may not `action`, in their order. */
  refused(identity: Identity | undefined, action: Action, walls: readonly string[]): string[] {
    return walls.filter(
      (wall) => this.needsIdentity(action, wall) && (identity === undefined || !can(identity, action, wall)),
    );
  }

  /** Throws the AuthFailure naming every wall of `walls` that `identity` may not `action`. */
  check(identity: Identity | undefined, action: Action, walls: readonly string[]): void {
    const refused = this.refused(identity, action, walls);
    if (refused.length === 0) return;
    const one = refused.length === 1;
    const named = `${one ? 'wall' : 'walls'} ${listNames(refused)}`;
    if (identity !== undefined) {
      throw new AuthFailure('insufficient_scope', `This token cannot ${VERB[action]} ${named}.`);
    }
    const grant = `a token with a ${action} grant for ${one ? 'it' : 'each'}`;
    throw new AuthFailure(
      'token_missing',
      action === 'read'
        ? `${named[0]?.toUpperCase()}${named.slice(1)} ${one ? 'is' : 'are'} private: reading needs ${grant}.`
        : `${GERUND[action]} ${named} needs ${grant}.`,
    );
  }
}
