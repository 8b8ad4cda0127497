/**
 * The one Lua script of the Redis presence share: every step that touches
 * more than one key runs in it, atomically, so the count never disagrees
 * with what the processes hold.
 *
 * Keys of one wall (all built by the caller's `keyOf`, which must put them
 * in one hash slot; no key is shared between walls):
 *
 * - `refs` hash: person key → how many live processes hold it. `HLEN` is
 *   the wall's `online`: O(1) however many people.
 * - `holds` sorted set, every score 0: `{instance}|{person key}`, what each
 *   process holds, read per process by lexical range (an instance id has
 *   neither `|` nor `}`, so `[id|` to `(id}` is exactly its own).
 * - `arrivals` sorted set: member key → its place in the order of arrival
 *   (from `seq`, taken when the first process takes the key): the order of
 *   the member list, exact even for members that arrive in one call.
 * - `members` hash: member key → `{"id","name"}` JSON.
 * - `instances` sorted set: instance id → when its lease ends (ms). A
 *   process is in it exactly while it holds someone on the wall, and its
 *   calls renew the lease; a process whose lease ended (killed, cut off,
 *   closed and its grace over) is reaped by the next call of any process:
 *   its holds go and the keys only it held stop counting.
 * - `version` string: changes with every change of `online` or of the
 *   members, so a follower polls a number and reads the view only when it
 *   moved.
 * - `seq` string: the arrival counter.
 *
 * ARGV: instance id, lease (ms), mode, expect-registered (`1`/`0`), the
 * follower's last version (`` for none), members limit (-1: no view, 0: the
 * count, n: the count and the first n members), then operations as
 * triples: `+`|`-`, person key, member JSON (`` for a non-member).
 *
 * Modes: `delta` applies the operations; `full` makes the process's holds
 * exactly the `+` operations given (after a failed call, or on a wall's
 * first call); `read` only reaps and reads. A `delta` from a process that
 * expected to be registered and is not (its holds were reaped, or Redis
 * lost its data) applies nothing and answers `resync`: the process sends
 * a `full` one.
 *
 * Replies: `{'resync'}`, `{'ok'}` (no view asked), `{'same', version}`, or
 * `{'view', version, online, member count, member JSON…}`.
 */
export const PRESENCE_SCRIPT = `
if redis.replicate_commands then redis.replicate_commands() end
local refs, holds, arrivals, members, instances, version, seq = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local instance = ARGV[1]
local lease_ms = tonumber(ARGV[2])
local mode = ARGV[3]
local expect_registered = ARGV[4] == '1'
local last_version = ARGV[5]
local members_limit = tonumber(ARGV[6])
-- Redis's clock, one for every process: a lease never depends on a process's own clock.
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local changed = false
local registered = false

local function first(id) return '[' .. id .. '|' end
local function past(id) return '(' .. id .. '}' end

-- One process fewer holds the key; the last one takes the person away.
local function unref(key)
  if redis.call('HINCRBY', refs, key, -1) <= 0 then
    redis.call('HDEL', refs, key)
    if redis.call('ZREM', arrivals, key) == 1 then redis.call('HDEL', members, key) end
    changed = true
  end
end

local function hold(key, member)
  if redis.call('ZADD', holds, 0, instance .. '|' .. key) == 1 and redis.call('HINCRBY', refs, key, 1) == 1 then
    changed = true
    if member ~= '' then redis.call('ZADD', arrivals, redis.call('INCR', seq), key) end
  end
  if member ~= '' and redis.call('HGET', members, key) ~= member then
    redis.call('HSET', members, key, member)
    changed = true
  end
end

local function release(key)
  if redis.call('ZREM', holds, instance .. '|' .. key) == 1 then unref(key) end
end

for _, dead in ipairs(redis.call('ZRANGEBYSCORE', instances, '-inf', now)) do
  for _, held in ipairs(redis.call('ZRANGEBYLEX', holds, first(dead), past(dead))) do
    unref(string.sub(held, #dead + 2))
  end
  redis.call('ZREMRANGEBYLEX', holds, first(dead), past(dead))
  redis.call('ZREM', instances, dead)
end

local status = 'ok'
if mode == 'delta' and expect_registered and not redis.call('ZSCORE', instances, instance) then
  status = 'resync'
elseif mode ~= 'read' then
  if mode == 'full' then
    local wanted = {}
    for i = 7, #ARGV, 3 do wanted[ARGV[i + 1]] = true end
    for _, held in ipairs(redis.call('ZRANGEBYLEX', holds, first(instance), past(instance))) do
      local key = string.sub(held, #instance + 2)
      if not wanted[key] then
        redis.call('ZREM', holds, held)
        unref(key)
      end
    end
  end
  for i = 7, #ARGV, 3 do
    if ARGV[i] == '+' then hold(ARGV[i + 1], ARGV[i + 2]) else release(ARGV[i + 1]) end
  end
  if #redis.call('ZRANGEBYLEX', holds, first(instance), past(instance), 'LIMIT', 0, 1) > 0 then
    redis.call('ZADD', instances, now + lease_ms, instance)
    registered = true
  else
    redis.call('ZREM', instances, instance)
  end
end

if changed and redis.call('INCR', version) == 1 then
  -- A version key that expired starts again from the clock (µs), never from a value a follower may hold.
  redis.call('SET', version, clock[1] .. string.format('%06d', tonumber(clock[2])))
end

if changed or registered then
  -- The keys outlive the last lease by a minute: with nobody left to reap them, they go together.
  local last = redis.call('ZRANGE', instances, -1, -1, 'WITHSCORES')
  local until_ms = (tonumber(last[2]) or now) + 60000
  for _, key in ipairs(KEYS) do redis.call('PEXPIREAT', key, until_ms) end
end

if status == 'resync' then return {'resync'} end
if members_limit < 0 then return {'ok'} end
local current = redis.call('GET', version) or ''
if current ~= '' and current == last_version then return {'same', current} end
local reply = {'view', current, redis.call('HLEN', refs), redis.call('ZCARD', arrivals)}
if members_limit > 0 then
  local listed = redis.call('ZRANGE', arrivals, 0, members_limit - 1)
  if #listed > 0 then
    for _, json in ipairs(redis.call('HMGET', members, unpack(listed))) do
      if json then reply[#reply + 1] = json end
    end
  end
end
return reply
`;

/** The parts of a wall's presence, in the order the script takes its keys. */
export const PRESENCE_KEY_PARTS = ['refs', 'holds', 'arrivals', 'members', 'instances', 'version', 'seq'] as const;
export type PresenceKeyPart = (typeof PRESENCE_KEY_PARTS)[number];

export type PresenceReply =
  | [status: 'resync']
  | [status: 'ok']
  | [status: 'same', version: string]
  | [status: 'view', version: string, online: number, memberCount: number, ...members: string[]];
