/**
 * The Lua scripts of the Redis store. Each runs atomically, so a wall's
 * stream, its metadata and its partition's feed never disagree.
 *
 * Every key a script takes is in one partition (keys.ts, partitions.ts):
 * `{prefix}{tag}:` then the partition's or a wall's part, all in the hash
 * slot of the tag, so each script runs on one node of a Redis Cluster.
 * Each script lists the keys it takes, in order, at its top; the walls
 * admitted against `maxWalls` have scripts of their own, in another slot
 * (wall-admission.ts).
 *
 * - `{prefix}{tag}:epoch` string: names the partition's history. Drawn by
 *   the first script that finds it missing, so a partition whose Redis
 *   lost its data (a restart without persistence, a flush, a master lost
 *   with no replica) gets a new one, and cursors from before are answered
 *   with a reset instead of being read as positions in the new history.
 * - `{prefix}{tag}:active` sorted set: the partition's walls that have
 *   history, each scored by the time (ms) of its newest event, for
 *   `listWalls` and the retention.
 * - `{prefix}{tag}:feed` stream: every event of the partition's walls, as
 *   `w` (wall), `e` (epoch), `c` (entry id) and the event's own fields;
 *   each instance's feed readers follow every partition's feed.
 * - `{prefix}{tag}:w:{wall}:events` stream: the wall's events. Fields: `t`
 *   (message | delete), `id` (message id), `j` (message JSON, without its
 *   cursor), `k` (the idempotency key it was posted with, if any). A cursor
 *   is `{epoch}-{entry id}`.
 * - `{prefix}{tag}:w:{wall}:meta` hash: `head` (newest entry id), `trimmed`
 *   (the last entry id trimmed away; resuming before it is a reset), `bytes`
 *   (bytes of `j` kept, against `historyBytes`).
 * - `{prefix}{tag}:w:{wall}:ids` hash: message id → entry id, for get and delete.
 * - `{prefix}{tag}:w:{wall}:keys` hash: idempotency key → entry id, for the
 *   entries still in the stream (trimming and deleting remove them too).
 */

import { DELETE_EVENT_BYTES } from '../store.js';

/** Shared by every script: the epoch, ids compared as numbers, sizes, trimming. */
const COMMON = `
-- The size of a delete event, as the stores count it (store.ts): one constant, written into each script.
local DELETE_EVENT_BYTES = ${DELETE_EVENT_BYTES}

local function current_epoch(epoch_key, candidate)
  local epoch = redis.call('GET', epoch_key)
  if not epoch then
    epoch = candidate
    redis.call('SET', epoch_key, epoch)
  end
  return epoch
end

local function parse(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq)
end
local function compare(a, b)
  local a_ms, a_seq = parse(a)
  local b_ms, b_seq = parse(b)
  if a_ms ~= b_ms then return a_ms < b_ms and -1 or 1 end
  if a_seq ~= b_seq then return a_seq < b_seq and -1 or 1 end
  return 0
end

-- The size of an entry against historyBytes and a read's maxBytes: its JSON, or a delete's.
local function size_of(fields)
  for k = 1, #fields, 2 do
    if fields[k] == 'j' then return #fields[k + 1] end
  end
  return DELETE_EVENT_BYTES
end

-- The milliseconds of a stream entry id: Redis's clock when it added the entry.
local function ms_of(id)
  return tonumber(string.match(id, '^(%d+)-'))
end

local function field_of(fields, name)
  for k = 1, #fields, 2 do
    if fields[k] == name then return fields[k + 1] end
  end
  return nil
end

-- Drops the lookups that point at an entry that leaves the stream.
local function forget(ids_key, keys_key, entry)
  local id = field_of(entry[2], 'id')
  if id and redis.call('HGET', ids_key, id) == entry[1] then redis.call('HDEL', ids_key, id) end
  local key = field_of(entry[2], 'k')
  if key and redis.call('HGET', keys_key, key) == entry[1] then redis.call('HDEL', keys_key, key) end
end

-- Removes the oldest entries while should_remove(id, length, bytes) says so, never the newest
-- one, keeping ids, bytes and trimmed exact. Returns the length left.
local function trim_oldest(events_key, meta_key, ids_key, keys_key, should_remove)
  local length = redis.call('XLEN', events_key)
  local bytes = tonumber(redis.call('HGET', meta_key, 'bytes') or '0')
  local last
  local stop = false
  while not stop and length > 1 do
    local oldest = redis.call('XRANGE', events_key, '-', '+', 'COUNT', 100)
    if #oldest == 0 then break end
    for _, old in ipairs(oldest) do
      if length <= 1 or not should_remove(old[1], length, bytes) then
        stop = true
        break
      end
      redis.call('XDEL', events_key, old[1])
      forget(ids_key, keys_key, old)
      bytes = bytes - size_of(old[2])
      length = length - 1
      last = old[1]
    end
  end
  redis.call('HSET', meta_key, 'bytes', bytes)
  if last then redis.call('HSET', meta_key, 'trimmed', last) end
  return length
end
`;

/**
 * Appends a message to its wall and to its partition's feed, then trims the
 * wall to its bounds explicitly (not `MAXLEN ~`), so that `trimmed` says
 * exactly where the history begins. Returns `{'stored', epoch, entry}`,
 * `{'replayed', epoch, entry, json}` (the message first posted with this
 * idempotency key), or `{'admit', epoch}` when the wall has no history and
 * the caller has not yet admitted it against `maxWalls`: nothing is stored,
 * and the caller admits the wall (wall-admission.ts) and calls again.
 */
export const APPEND = `${COMMON}
local events_key = KEYS[1]
local meta_key = KEYS[2]
local ids_key = KEYS[3]
local feed_key = KEYS[4]
local epoch_key = KEYS[5]
local active_key = KEYS[6]
local keys_key = KEYS[7]
local candidate_epoch = ARGV[1]
local history = tonumber(ARGV[2])
local history_bytes = tonumber(ARGV[3])
local slack_rows = tonumber(ARGV[4])
local slack_bytes = tonumber(ARGV[5])
local admitted = ARGV[6] == '1'
local message_id = ARGV[7]
local json = ARGV[8]
local wall = ARGV[9]
local feed_length = ARGV[10]
local post_key = ARGV[11]         -- the idempotency key, '' without one
local post_ttl_ms = tonumber(ARGV[12])

local epoch = current_epoch(epoch_key, candidate_epoch)
if post_key ~= '' then
  local first = redis.call('HGET', keys_key, post_key)
  if first then
    local time = redis.call('TIME')
    local now_ms = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
    local found = redis.call('XRANGE', events_key, first, first)[1]
    if found and parse(first) > now_ms - post_ttl_ms then
      -- A write, so that a WAIT after this script covers the first post's
      -- replication too, whichever connection wrote it.
      redis.call('SET', epoch_key, epoch)
      return {'replayed', epoch, first, field_of(found[2], 'j')}
    end
  end
end
if not admitted and not redis.call('ZSCORE', active_key, wall) then return {'admit', epoch} end

local entry
if post_key ~= '' then
  entry = redis.call('XADD', events_key, '*', 't', 'message', 'id', message_id, 'j', json, 'k', post_key)
  redis.call('HSET', keys_key, post_key, entry)
else
  entry = redis.call('XADD', events_key, '*', 't', 'message', 'id', message_id, 'j', json)
end
redis.call('HSET', ids_key, message_id, entry)
redis.call('HSET', meta_key, 'head', entry)
local bytes = redis.call('HINCRBY', meta_key, 'bytes', #json)
redis.call('ZADD', active_key, ms_of(entry), wall)
redis.call('XADD', feed_key, 'MAXLEN', '~', feed_length, '*',
  'w', wall, 'e', epoch, 'c', entry, 't', 'message', 'id', message_id, 'j', json)

local length = redis.call('XLEN', events_key)
if length > history + slack_rows or bytes > history_bytes + slack_bytes then
  trim_oldest(events_key, meta_key, ids_key, keys_key, function(_, rows, kept_bytes)
    return rows > history or kept_bytes > history_bytes
  end)
end
return {'stored', epoch, entry}
`;

/**
 * Reads a wall: after a cursor (direction `after`), before a cursor
 * (`before`: the newest messages before it, stepping over delete events),
 * or its newest messages; up to `limit` entries and `max_bytes` (at least
 * one). Returns `{status, epoch, head, entries, more}`: status `after` or
 * `before` with the entries the cursor asked for; or `newest`, `epoch` (a
 * cursor of an earlier history), `unknown` (ahead of the head) or `trimmed`,
 * with the newest messages, so that a reset costs one round trip too. Going
 * back, `trimmed` comes with no entries: everything before the cursor is
 * gone. Messages are newest first, and `more` (1 or 0) says whether the
 * wall has a message older than the last one.
 */
export const READ = `${COMMON}
local events_key = KEYS[1]
local meta_key = KEYS[2]
local epoch_key = KEYS[3]
local candidate_epoch = ARGV[1]
local cursor_epoch = ARGV[2]      -- '' for the newest messages
local cursor = ARGV[3]
local limit = tonumber(ARGV[4])
local max_bytes = tonumber(ARGV[5])
local direction = ARGV[6]         -- 'after' or 'before'

local epoch = current_epoch(epoch_key, candidate_epoch)
local meta = redis.call('HMGET', meta_key, 'head', 'trimmed')
local head = meta[1] or '0-0'
local trimmed = meta[2] or '0-0'

local function up_to_max_bytes(entries)
  local kept = {}
  local bytes = 0
  for _, entry in ipairs(entries) do
    bytes = bytes + size_of(entry[2])
    if bytes > max_bytes and #kept > 0 then break end
    table.insert(kept, entry)
  end
  return kept
end

-- The newest messages before upper ('+' or '(' .. id), newest first, stepping over delete
-- events; and 1 when a message older than the last one taken is left.
local function messages_before(upper)
  local page = {}
  local bytes = 0
  while true do
    -- Nothing is before the first id (and Redis refuses the range).
    if upper == '(0-0' then return page, 0 end
    local batch = redis.call('XREVRANGE', events_key, upper, '-', 'COUNT', limit - #page + 1)
    if #batch == 0 then return page, 0 end
    for _, entry in ipairs(batch) do
      upper = '(' .. entry[1]
      if entry[2][2] == 'message' then
        if #page >= limit then return page, 1 end
        bytes = bytes + size_of(entry[2])
        if bytes > max_bytes and #page > 0 then return page, 1 end
        table.insert(page, entry)
      end
    end
  end
end

local status = 'newest'
if cursor_epoch ~= '' then
  if cursor_epoch ~= epoch then status = 'epoch'
  elseif compare(cursor, head) > 0 then status = 'unknown'
  elseif compare(cursor, trimmed) < 0 then status = 'trimmed'
  elseif direction == 'after' then
    local after = up_to_max_bytes(redis.call('XRANGE', events_key, '(' .. cursor, '+', 'COUNT', limit))
    return {'after', epoch, head, after, 0}
  else
    local before, more = messages_before('(' .. cursor)
    return {'before', epoch, head, before, more}
  end
end
if status == 'trimmed' and direction == 'before' then return {status, epoch, head, {}, 0} end
local newest, more = messages_before('+')
return {status, epoch, head, newest, more}
`;

/**
 * Removes a message from its wall and logs a delete event, in the wall and
 * in its partition's feed. Returns `{epoch, entry}` of the delete event, or false when
 * the wall has no such message.
 */
export const DELETE = `${COMMON}
local events_key = KEYS[1]
local meta_key = KEYS[2]
local ids_key = KEYS[3]
local feed_key = KEYS[4]
local epoch_key = KEYS[5]
local keys_key = KEYS[6]
local active_key = KEYS[7]
local candidate_epoch = ARGV[1]
local message_id = ARGV[2]
local wall = ARGV[3]
local feed_length = ARGV[4]

local epoch = current_epoch(epoch_key, candidate_epoch)
local entry = redis.call('HGET', ids_key, message_id)
if not entry then return false end
local found = redis.call('XRANGE', events_key, entry, entry)
redis.call('XDEL', events_key, entry)
-- forget drops the id with its entry; an id whose entry is gone (trimmed meanwhile) is dropped alone.
if found[1] then forget(ids_key, keys_key, found[1]) else redis.call('HDEL', ids_key, message_id) end
local cursor = redis.call('XADD', events_key, '*', 't', 'delete', 'id', message_id)
redis.call('HSET', meta_key, 'head', cursor)
redis.call('ZADD', active_key, ms_of(cursor), wall)
if found[1] then redis.call('HINCRBY', meta_key, 'bytes', DELETE_EVENT_BYTES - size_of(found[1][2])) end
redis.call('XADD', feed_key, 'MAXLEN', '~', feed_length, '*',
  'w', wall, 'e', epoch, 'c', cursor, 't', 'delete', 'id', message_id)
return {epoch, cursor}
`;

/**
 * Retention: removes a wall's entries older than `min_ms` (stream ids are
 * milliseconds first); a wall left with no history leaves its partition's
 * active set (and the caller releases its admission). Returns the entries left.
 */
export const EXPIRE = `${COMMON}
local events_key = KEYS[1]
local meta_key = KEYS[2]
local ids_key = KEYS[3]
local active_key = KEYS[4]
local keys_key = KEYS[5]
local wall = ARGV[1]
local min_id = ARGV[2] .. '-0'

local first = redis.call('XRANGE', events_key, '-', '+', 'COUNT', 1)[1]
if first == nil then
  redis.call('ZREM', active_key, wall)
  return 0
end
if compare(first[1], min_id) >= 0 then return redis.call('XLEN', events_key) end
local length = trim_oldest(events_key, meta_key, ids_key, keys_key, function(id)
  return compare(id, min_id) < 0
end)
-- trim_oldest keeps the newest entry; past the retention it goes too.
if length == 1 then
  local last = redis.call('XRANGE', events_key, '-', '+', 'COUNT', 1)[1]
  if last and compare(last[1], min_id) < 0 then
    redis.call('XDEL', events_key, last[1])
    forget(ids_key, keys_key, last)
    redis.call('HSET', meta_key, 'trimmed', last[1], 'bytes', 0)
    length = 0
  end
end
if length == 0 then redis.call('ZREM', active_key, wall) end
return length
`;

/**
 * A page of a partition's active set, newest first, ties by name last
 * first: after (`after_ms`, `after_wall`) when given, up to `count` walls
 * (the store merges the partitions' pages). Returns
 * `{epoch, {wall, ms, wall, ms, …}}`. Walls whose newest events share the
 * millisecond of the position are few (those active in that one
 * millisecond), so they are read whole and the ones before the position
 * skipped; the rest is a range by score.
 */
export const LIST_WALLS = `${COMMON}
local active_key = KEYS[1]
local epoch_key = KEYS[2]
local candidate_epoch = ARGV[1]
local after_ms = ARGV[2]          -- '' for the first page
local after_wall = ARGV[3]
local count = tonumber(ARGV[4])

local epoch = current_epoch(epoch_key, candidate_epoch)
local page = {}
local upper = '+inf'
if after_ms ~= '' then
  for _, wall in ipairs(redis.call('ZREVRANGEBYSCORE', active_key, after_ms, after_ms)) do
    if #page >= 2 * count then break end
    if wall < after_wall then
      table.insert(page, wall)
      table.insert(page, after_ms)
    end
  end
  upper = '(' .. after_ms
end
local wanted = count - #page / 2
if wanted > 0 then
  local rest = redis.call('ZREVRANGEBYSCORE', active_key, upper, '-inf', 'WITHSCORES', 'LIMIT', 0, wanted)
  for _, value in ipairs(rest) do table.insert(page, value) end
end
return {epoch, page}
`;

/**
 * The message a lookup hash (`ids` or `keys`) names for `field`, while it is
 * in the wall's stream and was added after `after_ms` (-1: any). Returns
 * `{epoch, entry id, fields}`, or false.
 */
export const FIND = `${COMMON}
local epoch_key = KEYS[1]
local lookup_key = KEYS[2]
local events_key = KEYS[3]
local field = ARGV[1]
local after_ms = tonumber(ARGV[2])

local epoch = redis.call('GET', epoch_key)
local entry = redis.call('HGET', lookup_key, field)
if not epoch or not entry or ms_of(entry) <= after_ms then return false end
local found = redis.call('XRANGE', events_key, entry, entry)[1]
if not found then return false end
return {epoch, found[1], found[2]}
`;
