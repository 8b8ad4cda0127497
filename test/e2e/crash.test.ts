import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Message } from '../../src/message.js';
import { until, within } from '../support/deadlines.js';
import { getJson } from '../support/http.js';
import { spawnWallcast } from '../support/process.js';
import { RawSse } from '../support/sse-reader.js';

const POSTER = new URL('../fixtures/poster.mjs', import.meta.url).pathname;

describe('SQLite durability', () => {
  it('keeps every acknowledged message, in order with its cursor, across SIGKILL', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wallcast-crash-'));
    const env = { WALLCAST_STORE: `sqlite:${join(dir, 'wall.db')}`, WALLCAST_HISTORY: '100000' };
    try {
      const first = await spawnWallcast(env);
      const watcher = new RawSse(`${first.url}/api/walls/crash/events`);
      await watcher.waitFor('open', (s) => s.frames.length >= 2);
      const poster = spawn(process.execPath, [POSTER, first.url, 'crash'], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      poster.stdout.on('data', (chunk) => {
        out += chunk;
      });
      const acked = () => out.split('\n').filter((line) => line.startsWith('{'));
      await until('a few hundred posts acknowledged', 15_000, () => acked().length >= 300);
      first.child.kill('SIGKILL');
      await within('server dead', 5000, first.exited);
      await new Promise((resolve) => setTimeout(resolve, 200));
      poster.kill();
      const acknowledged = acked().map((line) => JSON.parse(line) as Message);
      // A client that had seen all but its last 50 messages when the server died.
      const lastSeen = watcher.messages().at(-51) as Message;

      const second = await spawnWallcast(env);
      try {
        const stored: Message[] = [];
        let after = '';
        for (;;) {
          const page = await getJson(second.url, `/api/walls/crash/messages?limit=1000${after && `&after=${after}`}`);
          expect(page.json.reset).toBe(false);
          stored.push(...page.json.messages);
          if (page.json.messages.length < 1000) break;
          after = page.json.cursor;
        }
        const byId = new Map(stored.map((m) => [m.id, m]));
        for (const message of acknowledged) expect(byId.get(message.id)).toEqual(message);
        const ackedOrder = acknowledged.map((m) => m.cursor).sort((a, b) => seq(a) - seq(b));
        const storedOrder = stored.map((m) => m.cursor).filter((c) => ackedOrder.includes(c));
        expect(storedOrder).toEqual(ackedOrder);

        const resumed = new RawSse(`${second.url}/api/walls/crash/events`, { 'Last-Event-ID': lastSeen.cursor });
        const rest = stored.slice(stored.findIndex((m) => m.id === lastSeen.id) + 1);
        expect(rest.length).toBeGreaterThanOrEqual(50);
        await resumed.waitForMessages(rest.length, 'replay after restart');
        expect(resumed.frames.some((f) => f.event === 'reset')).toBe(false);
        expect(resumed.messages().map((m) => m.id)).toEqual(rest.map((m) => m.id));
        resumed.close();
      } finally {
        second.child.kill('SIGTERM');
        await second.exited;
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

function seq(cursor: string): number {
  return Number(cursor.split('-')[1]);
}
