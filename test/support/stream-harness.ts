/**
 * Streams on a bare Node HTTP server, without the app: each request opens a
 * Stream (stream/stream.ts) on a hub fed by hand, over a real MemoryStore
 * whose reads a test can hold, so that the orderings a shared store's lagging
 * feed produces can be timed on purpose.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { writeStreamHead } from '../../src/http/stream-head.js';
import { MemoryPresenceShare } from '../../src/presence/memory-presence-share.js';
import { PresenceTracker } from '../../src/presence/presence-tracker.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import type { ReadQuery, ReadResult } from '../../src/store/store.js';
import { Hub } from '../../src/stream/hub.js';
import { plainFormat } from '../../src/stream/plain-format.js';
import { PresenceFanout } from '../../src/stream/presence-fanout.js';
import { ReplayMemo } from '../../src/stream/replay-memo.js';
import { Stream, type StreamContext, type StreamRequest } from '../../src/stream/stream.js';
import { StreamOutput } from '../../src/stream/stream-output.js';
import { LocalStreamSlots } from '../../src/stream/stream-slots.js';

/** A MemoryStore whose next reads wait until the test lets them go. */
export class HeldStore extends MemoryStore {
  #gate: Promise<void> | undefined;
  #open: (() => void) | undefined;
  /** Reads started so far (a test waits for the stream's read to be under way). */
  reads = 0;

  hold(): void {
    this.#gate = new Promise((resolve) => {
      this.#open = resolve;
    });
  }

  release(): void {
    this.#open?.();
    this.#gate = undefined;
  }

  override async read(wall: string, query: ReadQuery): Promise<ReadResult> {
    this.reads++;
    const result = await super.read(wall, query);
    await this.#gate;
    return result;
  }
}

export interface Harness {
  url: string;
  hub: Hub;
  store: HeldStore;
  /** The streams opened so far, in the order their requests came. */
  streams: Stream[];
  /** Resolved runs (each stream's `run`), by index. */
  live: Promise<void>[];
  close(): void;
}

/** A server whose every request is a stream of `request` (walls, format, backlog), resumed from its Last-Event-ID. */
export async function streamServer(request: Partial<StreamRequest> = {}, heartbeatMs = 60_000): Promise<Harness> {
  const store = new HeldStore({ historySize: 1000, historyBytes: 1 << 20, maxWalls: 10 });
  const hub = new Hub({ heartbeatMs });
  const presence = new PresenceTracker({ share: new MemoryPresenceShare(), settleMs: 0 });
  const context: StreamContext = {
    hub,
    store,
    memo: new ReplayMemo(),
    log: pino({ level: 'silent' }),
    slots: new LocalStreamSlots(undefined),
    presence,
    presenceFanout: new PresenceFanout(presence, hub),
  };
  const streams: Stream[] = [];
  const live: Promise<void>[] = [];
  const server = http.createServer((req, res) => {
    const socket = writeStreamHead(res, 1000);
    if (socket === undefined) throw new Error('no socket');
    const lastEventId = req.headers['last-event-id'];
    const full: StreamRequest = {
      walls: ['w'],
      several: false,
      format: plainFormat,
      backlog: 0,
      person: { kind: 'stream' },
      presence: undefined,
      expiresAtMs: undefined,
      ...request,
      lastEventId: typeof lastEventId === 'string' ? lastEventId : undefined,
    };
    const stream = Stream.open(context, full, new StreamOutput(res, socket, 1 << 20));
    streams.push(stream);
    live.push(stream.run(full.backlog));
  });
  server.maxConnections = 5000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    hub,
    store,
    streams,
    live,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}
