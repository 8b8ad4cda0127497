// An instance of its own for the presence tests, in a child process that a test can SIGKILL:
// a tracker on the Redis share (from dist/: `npm run build` first), holding the people named
// in its arguments. It prints `holding` once its own view shows all of them, then idles.
// Usage: node presence-instance.mjs REDIS_URL PREFIX WALL EXPIRY_MS PERSON_JSON...

import { Redis } from 'ioredis';
import { nanoid } from 'nanoid';
import { pino } from 'pino';

const dist = new URL('../../dist/presence/', import.meta.url);
const { PresenceTracker } = await import(new URL('presence-tracker.js', dist).href);
const { RedisPresenceShare, presenceKeyOf } = await import(new URL('redis/redis-presence-share.js', dist).href);

const [url, prefix, wall, expiryMs, ...people] = process.argv.slice(2);
const redis = new Redis(url, { enableOfflineQueue: false, commandTimeout: 1000 });
redis.on('error', () => {});
const share = new RedisPresenceShare({
  redis,
  keyOf: presenceKeyOf(prefix),
  instanceId: nanoid(),
  expiryMs: Number(expiryMs),
  log: pino({ level: 'silent' }),
});
const tracker = new PresenceTracker({ share, graceMs: 300 });
const seen = () => tracker.current(wall, { members: false })?.online ?? 0;
tracker.watch(wall, { members: false }, () => {});
for (const person of people) tracker.join(wall, JSON.parse(person));
// The tracker's timers do not hold a process open; this one does, until the test kills it.
const idle = setInterval(() => {
  if (seen() >= people.length) {
    process.stdout.write('holding\n');
    clearInterval(idle);
    setInterval(() => {}, 60_000);
  }
}, 20);
