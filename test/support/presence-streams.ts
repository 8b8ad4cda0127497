/**
 * Presence over HTTP for the end-to-end tests (issue 17): streams that ask
 * for `event: presence`, what each heard, `GET /presence`, and tokens of
 * distinct people. Streams are raw readers (sse-reader.ts), so a test sees
 * every frame as sent, ids included.
 */
import { expect } from 'vitest';
import type { Member } from '../../src/presence/person.js';
import type { RunningServer } from '../../src/server.js';
import { until, within } from './deadlines.js';
import { claims, secretText, signHmac } from './jwt.js';
import { RawSse } from './sse-reader.js';

/** What a presence event carries. */
export interface PresenceEvent {
  wall: string;
  online: number;
  members?: Member[];
  more?: number;
}

/** The secret every server of these tests verifies tokens with. */
export const SECRET = secretText();

/** `Authorization` for a token of `sub` (and its `name`, its `wallcast` grants). */
export async function bearer(sub: string, extra: Record<string, unknown> = {}): Promise<Record<string, string>> {
  return { Authorization: `Bearer ${await signHmac(claims({ sub, name: sub, ...extra }), SECRET)}` };
}

/** The presence events `sse` heard, in order, for `wall` (every wall when not given). */
export function heard(sse: RawSse, wall?: string): PresenceEvent[] {
  return sse.frames
    .filter((frame) => frame.event === 'presence')
    .map((frame) => JSON.parse(frame.data as string) as PresenceEvent)
    .filter((event) => wall === undefined || event.wall === wall);
}

/** The counts `sse` heard for `wall`, for failure messages. */
export const counts = (sse: RawSse, wall?: string): number[] => heard(sse, wall).map((event) => event.online);

/** Waits until the last presence event `sse` heard for `wall` says `online`; a timeout says what it had heard. */
export async function untilHeard(sse: RawSse, label: string, online: number, ms = 3000, wall?: string): Promise<void> {
  await sse
    .waitFor(label, (s) => heard(s, wall).at(-1)?.online === online, ms)
    .catch((error: Error) => {
      throw new Error(`${error.message} (heard ${JSON.stringify(counts(sse, wall))})`);
    });
}

/**
 * Opens a stream at `path` (`/api/walls/w/events?…`) and waits for its
 * head: by then the server has counted it (a stream joins its walls when
 * its head is written).
 */
export async function openStream(base: string, path: string, headers: Record<string, string> = {}): Promise<RawSse> {
  const sse = new RawSse(`${base}${path}`, headers);
  await within(`the head of ${path}`, 5000, sse.opened);
  expect(sse.status, path).toBe(200);
  return sse;
}

/**
 * What the stream route answers a stream it should refuse: its status and
 * error code (a stream it opened instead is cancelled, its code undefined).
 */
export async function refusedStream(
  base: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; code: string | undefined }> {
  const response = await within(
    path,
    3000,
    fetch(`${base}${path}`, { headers: { Accept: 'text/event-stream', ...headers } }),
  );
  if (response.status === 200) {
    await response.body?.cancel();
    return { status: 200, code: undefined };
  }
  const body = (await within(`the answer to ${path}`, 3000, response.json())) as PresenceAnswer;
  return { status: response.status, code: body.error?.code };
}

/** What `GET /presence` answers: the count, or the contract's error. */
export interface PresenceAnswer {
  wall?: string;
  online?: number;
  error?: { code: string; message: string };
}

/** `GET /api/walls/{wall}/presence`: its status and body. */
export async function getPresence(
  base: string,
  wall: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: PresenceAnswer }> {
  const response = await fetch(`${base}/api/walls/${wall}/presence`, { headers });
  return { status: response.status, json: (await response.json()) as PresenceAnswer };
}

/** The online count `GET /presence` gives now. */
export async function onlineNow(base: string, wall: string): Promise<number> {
  const { status, json } = await getPresence(base, wall);
  expect(status).toBe(200);
  return json.online as number;
}

/**
 * Waits out the tracker's settling (memory and SQLite: it reports no
 * presence for one grace after the start): until then no stream hears any.
 */
export async function untilSettled(server: RunningServer, ms = 5000): Promise<void> {
  await until('the presence tracker has settled', ms, () => server.deps.presence.current('x', { members: false }));
}

/** Closes every stream of `streams` (a test's own, at its end). */
export function closeAll(streams: Iterable<RawSse>): void {
  for (const sse of streams) sse.close();
}
