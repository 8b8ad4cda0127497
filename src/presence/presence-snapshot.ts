/** What a presence event carries (issue 17), built from a share's view. */
import type { Member } from './person.js';
import type { SharedView } from './presence-share.js';

export interface PresenceSnapshot {
  readonly wall: string;
  readonly online: number;
  /** For members watchers: the first MAX_LISTED_MEMBERS members by arrival. */
  readonly members?: readonly Member[];
  /** For members watchers: members beyond `members`. */
  readonly more?: number;
}

export function snapshotOf(wall: string, view: SharedView, members: boolean): PresenceSnapshot {
  if (!members) return { wall, online: view.online };
  const listed = view.members ?? [];
  return { wall, online: view.online, members: listed, more: Math.max(0, (view.memberCount ?? 0) - listed.length) };
}

/** Whether watchers that heard `b` would hear nothing new in `a`. */
export function sameSnapshot(a: PresenceSnapshot, b: PresenceSnapshot | undefined): boolean {
  if (b === undefined || a.online !== b.online || a.more !== b.more) return false;
  if (a.members === b.members) return true;
  const x = a.members ?? [];
  const y = b.members ?? [];
  return x.length === y.length && x.every((member, i) => member.id === y[i]?.id && member.name === y[i]?.name);
}
