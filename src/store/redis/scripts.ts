/**
 * The Lua scripts of the Redis store. Each runs atomically, so a wall's
 * stream, its metadata and the shared feed never disagree.
 *
 * Keys of one wall share the hash tag `{wall}`; the feed is global, which is
 * why Redis Cluster is not supported (an append touches both).
 *
 * - `{prefix}{wall}:events` stream: the wall's events; entry ids are cursors.
 *   Fields: `t` (message | delete), `id` (message id), `j` (message JSON,
 *   without its cursor).
 * - `{prefix}{wall}:meta` hash: `head` (newest entry id), `trimmed` (the
 *   last entry id trimmed away; resuming before it is a reset).
 * - `{prefix}{wall}:ids` hash: message id → entry id, for get and delete.
 * - `{prefix}feed` stream: every wall's events, as `w` (wall), `c` (cursor)
 *   and the event's own fields; each instance's feed reader follows it.
 */

/** Compares two stream ids numerically (ids whose parts fit a double exactly). */
const COMPARE = `
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
`;

/**
 * Appends a message to its wall and to the feed, then trims the wall
 * explicitly (not `MAXLEN ~`), so that `trimmed` says exactly where the
 * history begins. Returns the new entry id.
 */
export const APPEND = `
local events_key = KEYS[1]
local meta_key = KEYS[2]
local ids_key = KEYS[3]
local feed_key = KEYS[4]
local history = tonumber(ARGV[1])
local slack = tonumber(ARGV[2])
local message_id = ARGV[3]
local json = ARGV[4]
local wall = ARGV[5]
local feed_length = ARGV[6]

local entry = redis.call('XADD', events_key, '*', 't', 'message', 'id', message_id, 'j', json)
redis.call('HSET', ids_key, message_id, entry)
redis.call('HSET', meta_key, 'head', entry)
redis.call('XADD', feed_key, 'MAXLEN', '~', feed_length, '*',
  'w', wall, 'c', entry, 't', 'message', 'id', message_id, 'j', json)

local length = redis.call('XLEN', events_key)
if length > history + slack then
  local oldest = redis.call('XRANGE', events_key, '-', '+', 'COUNT', length - history)
  for _, old in ipairs(oldest) do
    redis.call('XDEL', events_key, old[1])
    local fields = old[2]
    for k = 1, #fields, 2 do
      if fields[k] == 'id' then redis.call('HDEL', ids_key, fields[k + 1]) end
    end
  end
  redis.call('HSET', meta_key, 'trimmed', oldest[#oldest][1])
end
return entry
`;

/**
 * Reads a wall after a cursor, or its newest messages. Returns
 * `{status, head, entries}`: status `after` with the entries after the
 * cursor; or `newest`, `unknown` (ahead of the head) or `trimmed` with the
 * newest messages, newest first, so that a reset costs one round trip too.
 */
export const READ = `${COMPARE}
local events_key = KEYS[1]
local meta_key = KEYS[2]
local cursor = ARGV[1] -- '' for the newest messages
local limit = tonumber(ARGV[2])

local meta = redis.call('HMGET', meta_key, 'head', 'trimmed')
local head = meta[1] or '0-0'
local trimmed = meta[2] or '0-0'
local status = 'newest'
if cursor ~= '' then
  if compare(cursor, head) > 0 then status = 'unknown'
  elseif compare(cursor, trimmed) < 0 then status = 'trimmed'
  else return {'after', head, redis.call('XRANGE', events_key, '(' .. cursor, '+', 'COUNT', limit)} end
end

-- The newest messages, newest first, stepping over delete events.
local newest = {}
local upper = '+'
while #newest < limit do
  local batch = redis.call('XREVRANGE', events_key, upper, '-', 'COUNT', limit - #newest)
  if #batch == 0 then break end
  for _, entry in ipairs(batch) do
    if entry[2][2] == 'message' then table.insert(newest, entry) end
    upper = '(' .. entry[1]
  end
end
return {status, head, newest}
`;

/**
 * Removes a message from its wall and logs a delete event, in the wall and
 * in the feed. Returns the delete event's entry id, or false when the wall
 * has no such message.
 */
export const DELETE = `
local events_key = KEYS[1]
local meta_key = KEYS[2]
local ids_key = KEYS[3]
local feed_key = KEYS[4]
local message_id = ARGV[1]
local wall = ARGV[2]
local feed_length = ARGV[3]

local entry = redis.call('HGET', ids_key, message_id)
if not entry then return false end
redis.call('XDEL', events_key, entry)
redis.call('HDEL', ids_key, message_id)
local cursor = redis.call('XADD', events_key, '*', 't', 'delete', 'id', message_id)
redis.call('HSET', meta_key, 'head', cursor)
redis.call('XADD', feed_key, 'MAXLEN', '~', feed_length, '*',
  'w', wall, 'c', cursor, 't', 'delete', 'id', message_id)
return cursor
`;
