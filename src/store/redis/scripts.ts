/**
 * The Lua scripts of the Redis store. Each runs atomically, so a wall's
 * stream, its metadata and the shared feed never disagree.
 *
 * Keys of one wall share the hash tag `{wall}`; the epoch, the wall set and
 * the feed are global, which is why Redis Cluster is not supported (an
 * append touches both).
 *
 * - `{prefix}epoch` string: names this Redis's history. Drawn by the first
 *   script that finds it missing, so a Redis that lost its data (a restart
 *   without persistence, a flush) gets a new one, and cursors from before
 *   are answered with a reset instead of being read as positions in the new
 *   history.
 * - `{prefix}walls` set: the walls that have history (`maxWalls`).
 * - `{prefix}feed` stream: every wall's events, as `w` (wall), `e` (epoch),
 *   `c` (entry id) and the event's own fields; each instance's feed reader
 *   follows it.
 * - `{prefix}{wall}:events` stream: the wall's events. Fields: `t`
 *   (message | delete), `id` (message id), `j` (message JSON, without its
 *   cursor), `k` (the idempotency key it was posted with, if any). A cursor
 *   is `{epoch}-{entry id}`.
 * - `{prefix}{wall}:meta` hash: `head` (newest entry id), `trimmed` (the
 *   last entry id trimmed away; resuming before it is a reset), `bytes`
 *   (bytes of `j` kept, against `historyBytes`).
 * - `{prefix}{wall}:ids` hash: message id → entry id, for get and delete.
 * - `{prefix}{wall}:keys` hash: idempotency key → entry id, for the
 *   entries still in the stream (trimming and deleting remove them too).
 */

/** Shared by every script: the epoch, ids compared as numbers, sizes, trimming. */
const COMMON = `
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

-- The size of an entry against historyBytes and a read's maxBytes: its JSON, or 64 for a delete.
local function size_of(fields)
  for k = 1, #fields, 2 do
    if fields[k] == 'j' then return #fields[k + 1] end
  end
  return 64
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
 * Appends a message to its wall and to the feed, then trims the wall to its
 * bounds explicitly (not `MAXLEN ~`), so that `trimmed` says exactly where
 * the history begins. Returns `{'stored', epoch, entry}`,
 * `{'replayed', epoch, entry, json}` (the message first posted with this
 * idempotency key), or `{'wall_limit', epoch}`.
 */
export const APPEND = `${COMMON}
local events_key = KEYS[1]
local meta_key = KEYS[2]
local ids_key = KEYS[3]
local feed_key = KEYS[4]
local epoch_key = KEYS[5]
local walls_key = KEYS[6]
local keys_key = KEYS[7]
local candidate_epoch = ARGV[1]
local history = tonumber(ARGV[2])
local history_bytes = tonumber(ARGV[3])
local slack_rows = tonumber(ARGV[4])
local slack_bytes = tonumber(ARGV[5])
local max_walls = tonumber(ARGV[6])
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
      return {'replayed', epoch, first, field_of(found[2], 'j')}
    end
  end
end
if redis.call('SISMEMBER', walls_key, wall) == 0 and redis.call('SCARD', walls_key) >= max_walls then
  return {'wall_limit', epoch}
end

local entry
if post_key ~= '' then
  entry = redis.call('XADD', events_key, '*', 't', 'message', 'id', message_id, 'j', json, 'k', post_key)
  redis.call('HSET', keys_key, post_key, entry)
else
  entry = redis.call('XADD', events_key, '*', 't', 'message', 'id', message_id, 'j', json)
end
redis.call('HSET', ids_key, message_id, entry)
redis.call('HSET', meta_key, 'head', entry)
redis.call('HINCRBY', meta_key, 'bytes', #json)
redis.call('SADD', walls_key, wall)
redis.call('XADD', feed_key, 'MAXLEN', '~', feed_length, '*',
  'w', wall, 'e', epoch, 'c', entry, 't', 'message', 'id', message_id, 'j', json)

local length = redis.call('XLEN', events_key)
local bytes = tonumber(redis.call('HGET', meta_key, 'bytes'))
if length > history + slack_rows or bytes > history_bytes + slack_bytes then
  trim_oldest(events_key, meta_key, ids_key, keys_key, function(_, rows, kept_bytes)
    return rows > history or kept_bytes > history_bytes
  end)
end
return {'stored', epoch, entry}
`;

/**
 * Reads a wall after a cursor, or its newest messages, up to `limit`
 * entries and `max_bytes` (at least one). Returns `{status, epoch, head,
 * entries}`: status `after` with the entries after the cursor; or `newest`,
 * `epoch` (a cursor of an earlier history), `unknown` (ahead of the head)
 * or `trimmed`, with the newest messages, newest first, so that a reset
 * costs one round trip too.
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

local status = 'newest'
if cursor_epoch ~= '' then
  if cursor_epoch ~= epoch then status = 'epoch'
  elseif compare(cursor, head) > 0 then status = 'unknown'
  elseif compare(cursor, trimmed) < 0 then status = 'trimmed'
  else
    local after = up_to_max_bytes(redis.call('XRANGE', events_key, '(' .. cursor, '+', 'COUNT', limit))
    return {'after', epoch, head, after}
  end
end

-- The newest messages, newest first, stepping over delete events.
local newest = {}
local bytes = 0
local upper = '+'
local full = false
while #newest < limit and not full do
  local batch = redis.call('XREVRANGE', events_key, upper, '-', 'COUNT', limit - #newest)
  if #batch == 0 then break end
  for _, entry in ipairs(batch) do
    upper = '(' .. entry[1]
    if entry[2][2] == 'message' then
      bytes = bytes + size_of(entry[2])
      if bytes > max_bytes and #newest > 0 then
        full = true
        break
      end
      table.insert(newest, entry)
    end
  end
end
return {status, epoch, head, newest}
`;

/**
 * Removes a message from its wall and logs a delete event, in the wall and
 * in the feed. Returns `{epoch, entry}` of the delete event, or false when
 * the wall has no such message.
 */
export const DELETE = `${COMMON}
local events_key = KEYS[1]
local meta_key = KEYS[2]
local ids_key = KEYS[3]
local feed_key = KEYS[4]
local epoch_key = KEYS[5]
local keys_key = KEYS[6]
local candidate_epoch = ARGV[1]
local message_id = ARGV[2]
local wall = ARGV[3]
local feed_length = ARGV[4]

local epoch = current_epoch(epoch_key, candidate_epoch)
local entry = redis.call('HGET', ids_key, message_id)
if not entry then return false end
local found = redis.call('XRANGE', events_key, entry, entry)
redis.call('XDEL', events_key, entry)
if found[1] then forget(ids_key, keys_key, found[1]) end
redis.call('HDEL', ids_key, message_id)
local cursor = redis.call('XADD', events_key, '*', 't', 'delete', 'id', message_id)
redis.call('HSET', meta_key, 'head', cursor)
if found[1] then redis.call('HINCRBY', meta_key, 'bytes', 64 - size_of(found[1][2])) end
redis.call('XADD', feed_key, 'MAXLEN', '~', feed_length, '*',
  'w', wall, 'e', epoch, 'c', cursor, 't', 'delete', 'id', message_id)
return {epoch, cursor}
`;

/**
 * Retention: removes a wall's entries older than `min_ms` (stream ids are
 * milliseconds first); a wall left with no history leaves the wall set.
 * Returns the entries left.
 */
export const EXPIRE = `${COMMON}
local events_key = KEYS[1]
local meta_key = KEYS[2]
local ids_key = KEYS[3]
local walls_key = KEYS[4]
local keys_key = KEYS[5]
local wall = ARGV[1]
local min_id = ARGV[2] .. '-0'

local first = redis.call('XRANGE', events_key, '-', '+', 'COUNT', 1)[1]
if first == nil then
  redis.call('SREM', walls_key, wall)
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
if length == 0 then redis.call('SREM', walls_key, wall) end
return length
`;
