// The Lua scripts the link runs (docs/scale-out.md), loaded by their SHA: APPLY adds a
// payload to the stream and its totals to the apps' hashes, once per payload number;
// CLAIM_KIND claims a name for an app; SNAPSHOT reads the totals and the stream
// position at once. The keys they take are in keys.ts; the Frame-Id claim is
// frame-ids.ts's.

/** Payloads the stream holds, at most, bytes (of 25 MB, Heroku's smallest Redis). */
export const STREAM_BYTES = 6 * 1024 * 1024;

export const APPLY = (streamBytes: number) => `
local done = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
local seq = tonumber(ARGV[2])
if seq <= done then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], seq)
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local n = redis.call('INCR', KEYS[1] .. ':n')
local id = redis.call('XADD', KEYS[1], '*', 'o', ARGV[1], 'n', n, 'p', ARGV[3])
local sizes, bytes = KEYS[1] .. ':z', KEYS[1] .. ':b'
redis.call('RPUSH', sizes, id .. ' ' .. #ARGV[3])
local held = redis.call('INCRBY', bytes, #ARGV[3])
local oldest = now - tonumber(ARGV[4])
while true do
  local hid, hsize = string.match(redis.call('LINDEX', sizes, 0), '^(%S+) (%d+)$')
  if hid == id or (held <= ${streamBytes} and tonumber(string.match(hid, '^%d+')) >= oldest) then break end
  redis.call('LPOP', sizes)
  held = redis.call('DECRBY', bytes, hsize)
end
redis.call('XTRIM', KEYS[1], 'MINID', string.match(redis.call('LINDEX', sizes, 0), '^%S+'))
local i = 6
local r = tonumber(ARGV[i]); i = i + 1
for j = 1, r do redis.call('HINCRBYFLOAT', KEYS[3], ARGV[i], ARGV[i + 1]); i = i + 2 end
local lost = {}
local ttl = tonumber(ARGV[5])
-- kinds.ts staleAfterS: past a receiver's own release of the name (TTL and a sweep).
local stale = ttl + ttl / 4 + 10
local sec = math.floor(now / 1000)
for k = 5, #KEYS, 2 do
  local app = ARGV[i]; i = i + 1
  local g = tonumber(ARGV[i]); i = i + 1
  local conflicts = 0
  for j = 1, g do
    -- A group: one metric's fields (or, named '', the app's own counts), applied
    -- only when the app's definition of the name is of the payload's kind.
    local name, def, n, f = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2]), tonumber(ARGV[i + 3])
    i = i + 4
    local cur = def
    if def ~= '' then
      -- The app's definition of the name ('K SECOND JSON'), unless unused for the TTL.
      local old = redis.call('HGET', KEYS[k + 1], name)
      local at = old and tonumber(string.match(old, '^%d (%d+) '))
      if at and sec - at <= stale then
        cur = old
        if string.sub(old, 1, 1) == string.sub(def, 1, 1) and sec - at > ttl / 4 then
          redis.call('HSET', KEYS[k + 1], name, string.sub(def, 1, 2) .. sec .. ' ' .. string.sub(def, 3))
        end
      else
        redis.call('HSET', KEYS[k + 1], name, string.sub(def, 1, 2) .. sec .. ' ' .. string.sub(def, 3))
      end
    end
    if string.sub(cur, 1, 1) ~= string.sub(def, 1, 1) then
      i = i + 3 * f
      conflicts = conflicts + n
      table.insert(lost, app); table.insert(lost, name); table.insert(lost, cur)
    else
      for x = 1, f do
        local op, field, v = ARGV[i], ARGV[i + 1], ARGV[i + 2]
        i = i + 3
        if op == 'i' then
          redis.call('HINCRBYFLOAT', KEYS[k], field, v)
        else
          local old = redis.call('HGET', KEYS[k], field)
          if not old or tonumber(string.match(old, '^%S+')) <= tonumber(string.match(v, '^%S+')) then
            redis.call('HSET', KEYS[k], field, v)
          end
        end
      end
    end
  end
  if conflicts > 0 then redis.call('HINCRBYFLOAT', KEYS[k], '["rejected","type_conflict"]', conflicts) end
  redis.call('EXPIRE', KEYS[k], ARGV[5])
  redis.call('EXPIRE', KEYS[k + 1], math.ceil(stale))
  redis.call('SADD', KEYS[4], app)
end
return lost
`;

/** An app's claim of a name (kinds.ts): the first wins; a new one goes on the stream for every receiver. */
export const CLAIM_KIND = `
local t = redis.call('TIME')
local sec = tonumber(t[1])
local cur = redis.call('HGET', KEYS[1], ARGV[2])
local at = cur and tonumber(string.match(cur, '^%d (%d+) '))
if not at or sec - at > tonumber(ARGV[6]) then
  redis.call('HSET', KEYS[1], ARGV[2], string.sub(ARGV[3], 1, 2) .. sec .. ' ' .. string.sub(ARGV[3], 3))
  redis.call('XADD', KEYS[2], '*', 'o', ARGV[4], 'c', ARGV[5])
  cur = ARGV[3]
end
redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[6])))
redis.call('SADD', KEYS[3], ARGV[1])
return cur
`;

export const SNAPSHOT = `
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local id = '0-0'
if #last > 0 then id = last[1][1] end
local out = {id, redis.call('HGETALL', KEYS[2])}
for _, a in ipairs(redis.call('SMEMBERS', KEYS[3])) do
  local h = redis.call('HGETALL', ARGV[1] .. a)
  local d = redis.call('HGETALL', ARGV[2] .. a)
  if #h == 0 and #d == 0 then redis.call('SREM', KEYS[3], a) else table.insert(out, a); table.insert(out, h); table.insert(out, d) end
end
out[1] = out[1] .. ' ' .. (redis.call('GET', KEYS[1] .. ':n') or '0') .. ' ' .. (redis.call('HGET', ARGV[3], ARGV[4]) or '0')
return out
`;
