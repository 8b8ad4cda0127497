/**
 * Presence news as the hub carries it (issue 17): a wall's newest snapshot
 * of each kind, and which one a subscription is owed, so the hub writes it
 * with the subscription's next events (hub.ts) and never the same numbers
 * twice.
 */
import { type PresenceSnapshot, sameSnapshot } from '../presence/presence-snapshot.js';
import type { Subscription } from './subscription.js';

/** A presence snapshot and its frame, written to each subscription that asked and has not had it. */
export interface PresenceNews {
  readonly snapshot: PresenceSnapshot;
  readonly frame: Buffer;
}

/**
 * How long presence news waits for a pass of events to ride along with
 * (issue 17): on a wall with posts, it goes in the same write as the next
 * messages instead of a write of its own to every stream. Well inside the
 * 2 s in which every instance must agree.
 */
export const PRESENCE_JOIN_MS = 250;

/** A wall's newest presence news, by what the streams asked for. */
export interface WallPresenceNews {
  count?: PresenceNews;
  members?: PresenceNews;
}

/** The presence news a subscription asked for and has not had (never the same numbers twice). */
export function owedPresence(wall: WallPresenceNews | undefined, subscription: Subscription): PresenceNews | undefined {
  const ask = subscription.presenceAsk;
  if (ask === undefined || wall === undefined) return undefined;
  const news = wall[ask];
  if (news === undefined || subscription.presenceSent === news.snapshot) return undefined;
  if (sameSnapshot(news.snapshot, subscription.presenceSent)) {
    subscription.presenceSent = news.snapshot;
    return undefined;
  }
  return news;
}
