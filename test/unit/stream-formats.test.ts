/**
 * Each stream format's bytes for a replay, a live event, a delete and a
 * reset, exactly as a client receives them, and the replay memo's sharing.
 */
import { describe, expect, it } from 'vitest';
import { createMessage } from '../../src/posting.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import type { WallEvent } from '../../src/store/store.js';
import { htmlFormat } from '../../src/stream/html-format.js';
import { multiWallFormat } from '../../src/stream/multi-wall-format.js';
import { plainFormat } from '../../src/stream/plain-format.js';
import { ReplayMemo } from '../../src/stream/replay-memo.js';
import { StreamPosition } from '../../src/stream/stream-position.js';

type MessageEvent = WallEvent & { type: 'message' };
type DeleteEvent = WallEvent & { type: 'delete' };

/** Two messages on wall `a` (`one`, `two`), one on `b`, and a delete of `one`, as a store gives them. */
async function events() {
  const store = new MemoryStore({ historySize: 100, historyBytes: 1 << 20, maxWalls: 10 });
  const fed: WallEvent[] = [];
  store.onEvent((_wall, event) => fed.push(event));
  const first = await store.append(createMessage('a', 'ann', 'one'));
  await store.append(createMessage('a', '', 'two <b>'));
  await store.append(createMessage('b', 'bo', 'three'));
  await store.delete('a', first.id);
  const [one, two, three, deleted] = fed as [MessageEvent, MessageEvent, MessageEvent, DeleteEvent];
  return { one, two, three, deleted, a: [one, two] };
}

const text = (bytes: Buffer) => bytes.toString('utf8');

describe('the plain format (one wall, message JSON)', () => {
  it('writes each message as id and data, a delete as event: delete with its id, and a reset with its reason', async () => {
    const { two, deleted } = await events();
    const position = StreamPosition.resume(['a'], false, undefined);
    expect(text(plainFormat.encode('a', [two], position))).toBe(
      `id: ${two.cursor}\ndata: ${JSON.stringify(two.message)}\n\n`,
    );
    expect(text(plainFormat.encode('a', [deleted], position))).toBe(
      `event: delete\nid: ${deleted.cursor}\ndata: {"id":"${deleted.id}"}\n\n`,
    );
    expect(text(plainFormat.encode('a', [two, deleted], position))).toBe(
      text(plainFormat.encode('a', [two], position)) + text(plainFormat.encode('a', [deleted], position)),
    );
    expect(text(plainFormat.reset('a', 'e1-3', 'trimmed', position))).toBe(
      'event: reset\nid: e1-3\ndata: {"reason":"trimmed"}\n\n',
    );
  });

  it('uses the frames the hub joins for live events, and shares its replay bytes', () => {
    expect(plainFormat.hubFrames).toBe(true);
    expect(plainFormat.shared).toBe(true);
  });
});

describe('the htmx format (one wall, message HTML)', () => {
  it("writes a message's escaped fragment as data, a delete as an out-of-band delete, a reset naming the wall", async () => {
    const { two, deleted } = await events();
    const position = StreamPosition.resume(['a'], false, undefined);
    expect(text(htmlFormat.encode('a', [two], position))).toBe(`id: ${two.cursor}\ndata: ${two.message.html}\n\n`);
    expect(two.message.html).toContain('two &lt;b&gt;');
    expect(text(htmlFormat.encode('a', [deleted], position))).toBe(
      `event: delete\nid: ${deleted.cursor}\ndata: <div id="m${deleted.id}" hx-swap-oob="delete"></div>\n\n`,
    );
    expect(text(htmlFormat.reset('a', 'e1-3', 'epoch', position))).toBe(
      'event: reset\nid: e1-3\ndata: {"reason":"epoch","wall":"a"}\n\n',
    );
    expect(htmlFormat.hubFrames).toBe(false);
  });
});

describe('the several-walls format', () => {
  it("gives every event the stream's whole position as its id, the event's wall moved to it", async () => {
    const { one, two, three } = await events();
    const position = StreamPosition.resume(['a', 'b'], true, `b:${three.cursor}`);
    const json = multiWallFormat('json');
    expect(text(json.encode('a', [one, two], position))).toBe(
      `id: a:${one.cursor},b:${three.cursor}\ndata: ${JSON.stringify(one.message)}\n\n` +
        `id: a:${two.cursor},b:${three.cursor}\ndata: ${JSON.stringify(two.message)}\n\n`,
    );
    // The format reads the position, never moves it: the stream does, once the bytes are written.
    expect(position.id()).toBe(`b:${three.cursor}`);
    expect(json.shared).toBe(false);
  });

  it('writes a delete and a reset with the wall named, and its HTML variant the fragments', async () => {
    const { two, deleted } = await events();
    const position = StreamPosition.resume(['a', 'b'], true, undefined);
    expect(text(multiWallFormat('json').encode('a', [deleted], position))).toBe(
      `event: delete\nid: a:${deleted.cursor}\ndata: {"id":"${deleted.id}"}\n\n`,
    );
    position.set('b', 'e9-1');
    expect(text(multiWallFormat('json').reset('b', 'e9-1', 'unknown', position))).toBe(
      'event: reset\nid: b:e9-1\ndata: {"reason":"unknown","wall":"b"}\n\n',
    );
    expect(text(multiWallFormat('html').encode('a', [two], position))).toBe(
      `id: a:${two.cursor},b:e9-1\ndata: ${two.message.html}\n\n`,
    );
  });
});

describe('the replay memo', () => {
  it('hands every stream of a shared format the same bytes for the same range, and encodes a new range anew', async () => {
    const { a, three } = await events();
    const b = [three];
    const memo = new ReplayMemo();
    const position = StreamPosition.resume(['a'], false, undefined);
    const first = memo.encode(plainFormat, 'a', a, position);
    expect(memo.encode(plainFormat, 'a', [...a], position)).toBe(first);
    expect(text(first)).toBe(text(plainFormat.encode('a', a, position)));
    const shorter = memo.encode(plainFormat, 'a', a.slice(1), position);
    expect(shorter).not.toBe(first);
    expect(memo.encode(plainFormat, 'b', b, position)).not.toBe(shorter);
  });

  it('keeps formats apart, and never shares the frames of a format whose ids are per stream', async () => {
    const { a } = await events();
    const memo = new ReplayMemo();
    const one = StreamPosition.resume(['a'], false, undefined);
    const plain = memo.encode(plainFormat, 'a', a, one);
    expect(text(memo.encode(htmlFormat, 'a', a, one))).not.toBe(text(plain));
    const several = StreamPosition.resume(['a', 'b'], true, undefined);
    const other = StreamPosition.resume(['a', 'b'], true, 'b:e9-1');
    const json = multiWallFormat('json');
    expect(text(memo.encode(json, 'a', a, several))).not.toBe(text(memo.encode(json, 'a', a, other)));
  });
});
