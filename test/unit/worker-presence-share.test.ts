/**
 * A worker's presence share (src/cluster/worker-shares.ts): the views the
 * primary pushes for the walls it follows. A wall is followed for one need
 * at a time, so it has one view: a count asked after the wall went on to
 * members is the members view's, never an older count's.
 */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { PrimaryLink } from '../../src/cluster/primary-link.js';
import type { ToPrimary, ToWorker } from '../../src/cluster/protocol.js';
import { WorkerPresenceShare } from '../../src/cluster/worker-shares.js';

/** The worker's end of the IPC channel, in process: what the primary would push, pushed by the test. */
class Channel extends EventEmitter {
  readonly sent: ToPrimary[] = [];
  send(message: ToPrimary): void {
    this.sent.push(message);
  }
  push(message: ToWorker): void {
    this.emit('message', message);
  }
}

describe('a worker’s presence share', () => {
  it('keeps one view per wall: after the need moves from count to members, a count is the newest view’s', () => {
    const channel = new Channel();
    const share = new WorkerPresenceShare(new PrimaryLink(channel));
    share.follow('w', 'count');
    channel.push({ wc: 'presence-view', wall: 'w', need: 'count', view: { online: 1 } });
    expect(share.view('w', 'count')).toEqual({ online: 1 });

    share.follow('w', 'members');
    // Until the members view comes, there is none to give.
    expect(share.view('w', 'members')).toBeUndefined();
    const members = { online: 3, members: [{ id: 'u1', name: 'Ann' }], memberCount: 1 };
    channel.push({ wc: 'presence-view', wall: 'w', need: 'members', view: members });
    expect(share.view('w', 'members')).toEqual(members);
    expect(share.view('w', 'count')?.online).toBe(3);

    // A push for a need no longer followed is dropped.
    channel.push({ wc: 'presence-view', wall: 'w', need: 'count', view: { online: 9 } });
    expect(share.view('w', 'count')?.online).toBe(3);
    share.follow('w', undefined);
    expect(share.view('w', 'count')).toBeUndefined();
  });
});
