/**
 * Who a request is, once its token or ticket has been verified: the
 * application's user id (`sub`), the name people see, what it may do to
 * which walls, and until when. wallcast stores no users: an Identity lives
 * as long as the request or stream that presented it.
 */
import type { WallPatterns } from './wall-patterns.js';

export type Action = 'read' | 'post' | 'moderate';

/** How the credential came: `Authorization: Bearer`, the token cookie, or `?ticket=` on a stream URL. */
export type Via = 'bearer' | 'cookie' | 'ticket';

/** A credential as a request carries it, before it is verified (see http/credentials.ts). */
export type Credential = { via: 'bearer' | 'cookie'; token: string } | { via: 'ticket'; ticket: string };

/** The token's `wallcast` claim, parsed: walls per action. */
export interface Grants {
  readonly read: WallPatterns;
  readonly post: WallPatterns;
  /** Implies `read` and `post` on the same walls. */
  readonly moderate: WallPatterns;
}

export interface Identity {
  /** The token's `sub`: 1–255 characters, the application's id of the user. */
  readonly sub: string;
  /** What people see as the author: the token's `name`, or its `sub` when it has none. */
  readonly name: string;
  readonly grants: Grants;
  /** The token's `exp` in ms since 1970 (for a ticket too: a ticket never outlives its token). */
  readonly expiresAtMs: number;
  readonly via: Via;
}

/** Whether the identity's grants allow `action` on `wall`; `moderate` implies `read` and `post`. */
export function can(identity: Identity, action: Action, wall: string): boolean {
  const { grants } = identity;
  if (grants.moderate.matches(wall)) return true;
  return action !== 'moderate' && grants[action].matches(wall);
}
