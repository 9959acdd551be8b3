/**
 * The Lua scripts of the Redis budget store. Each runs atomically inside Redis, so one
 * `EVALSHA` checks and writes every window of every limit a reservation touches.
 *
 * Data model (`P` = prefix, `S` = the scope, URI-encoded):
 * - `P r:<id>` hash — a reservation: `j` immutable JSON (id, limits, at, expiry, meta), `u`
 *   reserved µUSD, `s` state (`h` held, `c` committed, `x` released), `c` committed µUSD,
 *   `q` insertion number, `a` time, `k` its scopes and calendar periods. Settled reservations
 *   expire after `retainMs`.
 * - `P held` sorted set — held reservation ids by expiry (for `expired`).
 * - `P t:S` hash — all-time sums of scope S: `h` held, `c` committed, `n` payments.
 * - `P z:S` sorted set — scope S's held and committed reservations by time, member
 *   `<h|c><µUSD>:<id>`; members older than max(longest rolling window seen for S, retainMs)
 *   are trimmed.
 * - `P w:S:<ms>` hash — the running sum of S's rolling window of `ms` (`s` its start, `h`,
 *   `c`, `n`), like the in-memory store's: checking a rolling window only reads the members
 *   between the sum's previous start and the new one (amortised O(1) per reservation as time
 *   moves on, instead of re-summing the whole window), and every reserve, commit, release and
 *   trim adjusts the sums that count the reservation. `P ws:S` lists S's rolling windows.
 * - `P p:S:<day|week|month>:<start>` hash — sums of one calendar period (`h`, `c`, `n`, and
 *   `nh` held payments); `P i:S:<unit>` sorted set — the periods seen. A calendar window sums
 *   the periods starting at or after its start (normally one; more when reservations were
 *   stamped in a later period). A period key gets a TTL (period end + retainMs) once it holds
 *   no held reservation, and loses it while it does, so an unsettled hold never expires.
 *
 * Amounts are decimal strings; the scripts add and compare them as base-10^7 big numbers,
 * exact at any size (Lua numbers are doubles). Times are passed as score strings.
 *
 * For Redis Cluster, put the whole store in one slot with a hash-tagged prefix such as
 * `{stipend}:` (the scripts touch keys they compute).
 *
 * @module
 */

const BIGNUM = `
local BASE = 10000000
local function big(s)
  local a, n = {}, #s
  while n > 0 do
    local lo = n - 6
    if lo < 1 then lo = 1 end
    a[#a + 1] = tonumber(string.sub(s, lo, n))
    n = lo - 1
  end
  if #a == 0 then a[1] = 0 end
  return a
end
local function trim(a)
  while #a > 1 and a[#a] == 0 do a[#a] = nil end
  return a
end
local function cmp(a, b)
  a = trim(a)
  b = trim(b)
  if #a ~= #b then
    if #a < #b then return -1 end
    return 1
  end
  for i = #a, 1, -1 do
    if a[i] ~= b[i] then
      if a[i] < b[i] then return -1 end
      return 1
    end
  end
  return 0
end
local function add(a, b)
  local r, carry = {}, 0
  local n = #a
  if #b > n then n = #b end
  for i = 1, n do
    local v = (a[i] or 0) + (b[i] or 0) + carry
    if v >= BASE then
      r[i] = v - BASE
      carry = 1
    else
      r[i] = v
      carry = 0
    end
  end
  if carry > 0 then r[n + 1] = carry end
  return r
end
local function sub(a, b)
  if cmp(a, b) <= 0 then return {0} end
  local r, borrow = {}, 0
  for i = 1, #a do
    local v = a[i] - (b[i] or 0) - borrow
    if v < 0 then
      r[i] = v + BASE
      borrow = 1
    else
      r[i] = v
      borrow = 0
    end
  end
  return trim(r)
end
local function str(a)
  a = trim(a)
  local parts = { string.format('%d', a[#a]) }
  for i = #a - 1, 1, -1 do parts[#parts + 1] = string.format('%07d', a[i]) end
  return table.concat(parts)
end
-- Sums decimal strings: small ones in a double (exact below 2^53), spilling into a big number.
local function summer()
  local acc, small = {0}, 0
  local self = {}
  function self.add(s)
    if #s <= 15 then
      small = small + tonumber(s)
      if small >= 4503599627370496 then
        acc = add(acc, big(string.format('%.0f', small)))
        small = 0
      end
    else
      acc = add(acc, big(s))
    end
  end
  function self.total()
    return add(acc, big(string.format('%.0f', small)))
  end
  return self
end
local function split(s, sep)
  local out, from = {}, 1
  if s == nil or s == '' then return out end
  while true do
    local at = string.find(s, sep, from, true)
    if not at then
      out[#out + 1] = string.sub(s, from)
      return out
    end
    out[#out + 1] = string.sub(s, from, at - 1)
    from = at + 1
  end
end
local UNITS = { 'day', 'week', 'month' }
-- A reservation's scopes: lines of "S<TAB>dayStart<TAB>dayTtl<TAB>weekStart…monthTtl".
local function scopes(spec)
  local out = {}
  for _, line in ipairs(split(spec, '\\n')) do
    local f = split(line, '\\t')
    out[#out + 1] = { e = f[1], periods = {
      { unit = 'day', start = f[2], ttl = f[3] },
      { unit = 'week', start = f[4], ttl = f[5] },
      { unit = 'month', start = f[6], ttl = f[7] },
    } }
  end
  return out
end
local function hadd(key, field, amount)
  local current = redis.call('HGET', key, field)
  local value = amount
  if current then value = add(big(current), amount) end
  redis.call('HSET', key, field, str(value))
end
local function hsub(key, field, amount)
  local current = redis.call('HGET', key, field)
  local value = {0}
  if current then value = sub(big(current), amount) end
  redis.call('HSET', key, field, str(value))
end
`;

/** Sums of one scope in one window: returns held, committed (big numbers) and a count. */
const SUMS = `
-- A member of a scope's time index: state ('h' or 'c') and amount.
local function contribution(member)
  local colon = string.find(member, ':', 2, true)
  return string.sub(member, 1, 1), string.sub(member, 2, colon - 1)
end
-- Applies fn(held, committed, n) to every running rolling-window sum of scope e that counts
-- a reservation stamped at time "at" (its window start is at or before it).
local function adjust(P, e, at, fn)
  for _, ms in ipairs(redis.call('SMEMBERS', P .. 'ws:' .. e)) do
    local wkey = P .. 'w:' .. e .. ':' .. ms
    local f = redis.call('HMGET', wkey, 's', 'h', 'c', 'n')
    if f[1] and at >= tonumber(f[1]) then
      local h, c, n = fn(big(f[2]), big(f[3]), tonumber(f[4]))
      redis.call('HSET', wkey, 'h', str(h), 'c', str(c), 'n', n)
    end
  end
end
-- The running sum of scope e's rolling window of ms milliseconds, moved to start: the sum
-- keeps its own start, and only the members between the old and the new start are read.
local function rolling(P, e, ms, start)
  local wkey = P .. 'w:' .. e .. ':' .. ms
  local zkey = P .. 'z:' .. e
  local f = redis.call('HMGET', wkey, 's', 'h', 'c', 'n')
  if not f[1] then
    local held, committed = summer(), summer()
    local members = redis.call('ZRANGEBYSCORE', zkey, start, '+inf')
    for _, m in ipairs(members) do
      local state, amount = contribution(m)
      if state == 'h' then held.add(amount) else committed.add(amount) end
    end
    local h, c = held.total(), committed.total()
    redis.call('HSET', wkey, 's', start, 'h', str(h), 'c', str(c), 'n', #members)
    redis.call('SADD', P .. 'ws:' .. e, ms)
    return h, c, #members
  end
  local from, to = tonumber(f[1]), tonumber(start)
  local h, c, n = big(f[2]), big(f[3]), tonumber(f[4])
  if to == from then return h, c, n end
  local lo, hi, sign = f[1], start, -1
  if to < from then lo, hi, sign = start, f[1], 1 end
  for _, m in ipairs(redis.call('ZRANGEBYSCORE', zkey, lo, '(' .. hi)) do
    local state, amount = contribution(m)
    if sign > 0 then
      if state == 'h' then h = add(h, big(amount)) else c = add(c, big(amount)) end
    else
      if state == 'h' then h = sub(h, big(amount)) else c = sub(c, big(amount)) end
    end
    n = n + sign
  end
  redis.call('HSET', wkey, 's', start, 'h', str(h), 'c', str(c), 'n', n)
  return h, c, n
end
local function sums(P, e, kind, start)
  if kind == 'total' then
    local f = redis.call('HMGET', P .. 't:' .. e, 'h', 'c', 'n')
    return big(f[1] or '0'), big(f[2] or '0'), tonumber(f[3] or '0')
  end
  if string.sub(kind, 1, 8) == 'rolling:' then
    return rolling(P, e, string.sub(kind, 9), start)
  end
  local held, committed, n = {0}, {0}, 0
  local base = P .. 'p:' .. e .. ':' .. kind .. ':'
  for _, period in ipairs(redis.call('ZRANGEBYSCORE', P .. 'i:' .. e .. ':' .. kind, start, '+inf')) do
    local f = redis.call('HMGET', base .. period, 'h', 'c', 'n')
    if f[1] then held = add(held, big(f[1])) end
    if f[2] then committed = add(committed, big(f[2])) end
    if f[3] then n = n + tonumber(f[3]) end
  end
  return held, committed, n
end
`;

/**
 * UTC calendar periods in Lua, from a time in ms: the same starts as `windowStart` of
 * `@stipend/client` (a day; an ISO week from Monday; a month), so that a reservation stamped
 * with the server's clock lands in the periods every process reads. Pinned against
 * `windowStart` by `clock.test.ts`. Days ↔ civil dates after H. Hinnant's algorithms.
 */
export const CALENDAR = `
local DAY = 86400000
local function fdiv(a, b) return math.floor(a / b) end
local function civil(days)
  local z = days + 719468
  local era = fdiv(z, 146097)
  local doe = z - era * 146097
  local yoe = fdiv(doe - fdiv(doe, 1460) + fdiv(doe, 36524) - fdiv(doe, 146096), 365)
  local y = yoe + era * 400
  local doy = doe - (365 * yoe + fdiv(yoe, 4) - fdiv(yoe, 100))
  local mp = fdiv(5 * doy + 2, 153)
  local m = mp + 3
  if mp >= 10 then m = mp - 9 end
  if m <= 2 then y = y + 1 end
  return y, m
end
local function daysFrom(y, m)
  if m <= 2 then y = y - 1 end
  local era = fdiv(y, 400)
  local yoe = y - era * 400
  local mp = m - 3
  if m <= 2 then mp = m + 9 end
  local doy = fdiv(153 * mp + 2, 5)
  return era * 146097 + yoe * 365 + fdiv(yoe, 4) - fdiv(yoe, 100) + doy - 719468
end
-- Start and end (ms) of the period of unit ('day' | 'week' | 'month') holding time t.
local function period(unit, t)
  local d = fdiv(t, DAY)
  if unit == 'day' then return d * DAY, (d + 1) * DAY end
  if unit == 'week' then
    local monday = d - (d + 3) % 7
    return monday * DAY, (monday + 7) * DAY
  end
  local y, m = civil(d)
  local ny, nm = y, m + 1
  if nm > 12 then ny, nm = y + 1, 1 end
  return daysFrom(y, m) * DAY, daysFrom(ny, nm) * DAY
end
local function ms(n) return string.format('%.0f', n) end
local function num(n)
  if n == math.floor(n) then return string.format('%.0f', n) end
  return string.format('%.17g', n)
end
`;

/**
 * Reserve. ARGV: prefix, id, usd, at ('' = now by the Redis server's clock, `TIME`), expiry
 * score, json, retainMs, scopes (encoded, newline-separated), longest rolling ms per scope
 * (comma-separated), number of limits, then per limit: scope (encoded), kind (total |
 * rolling:<ms> | day | week | month), max µUSD or '', max count or ''.
 *
 * Window starts and calendar periods are computed here from the time the spend counts at, so
 * that with the server's clock every process counts a spend in the same periods.
 *
 * Trimming (finding 17): a scope's time index drops only committed members older than the
 * longest rolling window (or retainMs) before min(server time, at): a caller whose clock runs
 * ahead cannot trim relative to its future, and held members (money that may still move)
 * are never trimmed.
 *
 * Returns {'exists', j, s, c, u, a} | {'refused', limitIndex, 'usd'|'count', remaining} |
 * {'ok', at}.
 */
export const RESERVE = `${BIGNUM}${SUMS}${CALENDAR}
local P, id, usd, atArg, exp, json, retain, scopeList, rolls = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], tonumber(ARGV[7]), ARGV[8], ARGV[9]
local rkey = P .. 'r:' .. id
if redis.call('EXISTS', rkey) == 1 then
  local f = redis.call('HMGET', rkey, 'j', 's', 'c', 'u', 'a')
  return { 'exists', f[1], f[2], f[3] or '', f[4], f[5] }
end
if redis.replicate_commands then redis.replicate_commands() end
local clock = redis.call('TIME')
local serverNow = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local atN = serverNow
if atArg ~= '' then atN = tonumber(atArg) end
local at = num(atN)
local lines = {}
for _, e in ipairs(split(scopeList, '\\n')) do
  local fields = { e }
  for _, unit in ipairs(UNITS) do
    local start, stop = period(unit, atN)
    local ttl = math.ceil(stop + retain - atN)
    if ttl < 1 then ttl = 1 end
    fields[#fields + 1] = ms(start)
    fields[#fields + 1] = ms(ttl)
  end
  lines[#lines + 1] = table.concat(fields, '\\t')
end
local spec = table.concat(lines, '\\n')
local amount = big(usd)
local cache = {}
local nlimits = tonumber(ARGV[10])
for i = 1, nlimits do
  local o = 10 + (i - 1) * 4
  local e, kind, max, maxCount = ARGV[o + 1], ARGV[o + 2], ARGV[o + 3], ARGV[o + 4]
  local start = '-inf'
  if string.sub(kind, 1, 8) == 'rolling:' then
    start = num(atN - tonumber(string.sub(kind, 9)))
  elseif kind ~= 'total' then
    start = ms(period(kind, atN))
  end
  local key = e .. '\\n' .. kind .. '\\n' .. start
  local s = cache[key]
  if not s then
    local held, committed, n = sums(P, e, kind, start)
    s = { used = add(held, committed), n = n }
    cache[key] = s
  end
  if max ~= '' then
    local cap = big(max)
    if cmp(add(s.used, amount), cap) > 0 then
      return { 'refused', tostring(i), 'usd', str(sub(cap, s.used)) }
    end
  end
  if maxCount ~= '' then
    local cap = tonumber(maxCount)
    if s.n + 1 > cap then
      local left = cap - s.n
      if left < 0 then left = 0 end
      return { 'refused', tostring(i), 'count', string.format('%d', left) }
    end
  end
end
local seq = redis.call('INCR', P .. 'seq')
redis.call('HSET', rkey, 'j', json, 'u', usd, 's', 'h', 'q', seq, 'a', at, 'k', spec)
redis.call('ZADD', P .. 'held', exp, id)
local member = 'h' .. usd .. ':' .. id
local longest = split(rolls, ',')
local horizon = atN
if serverNow < horizon then horizon = serverNow end
for i, scope in ipairs(scopes(spec)) do
  local e = scope.e
  local tkey = P .. 't:' .. e
  hadd(tkey, 'h', amount)
  redis.call('HINCRBY', tkey, 'n', 1)
  local zkey = P .. 'z:' .. e
  redis.call('ZADD', zkey, at, member)
  adjust(P, e, atN, function(h, c, n) return add(h, amount), c, n + 1 end)
  for _, period in ipairs(scope.periods) do
    local pkey = P .. 'p:' .. e .. ':' .. period.unit .. ':' .. period.start
    hadd(pkey, 'h', amount)
    redis.call('HINCRBY', pkey, 'n', 1)
    redis.call('HINCRBY', pkey, 'nh', 1)
    redis.call('PERSIST', pkey)
    redis.call('ZADD', P .. 'i:' .. e .. ':' .. period.unit, period.start, period.start)
  end
  local seen = tonumber(redis.call('HGET', P .. 'roll', e) or '0')
  local mine = tonumber(longest[i] or '0')
  if mine > seen then
    seen = mine
    redis.call('HSET', P .. 'roll', e, string.format('%.0f', mine))
  end
  local keep = seen
  if retain > keep then keep = retain end
  local cutoff = '(' .. num(horizon - keep)
  local old = redis.call('ZRANGEBYSCORE', zkey, '-inf', cutoff, 'WITHSCORES')
  for j = 1, #old, 2 do
    local state, gone = contribution(old[j])
    if state == 'c' then
      adjust(P, e, tonumber(old[j + 1]), function(h, c, n) return h, sub(c, big(gone)), n - 1 end)
      redis.call('ZREM', zkey, old[j])
    end
  end
end
return { 'ok', at }
`;

/**
 * Commit (`ARGV[4]` = 'c') or release ('x'). ARGV: prefix, id, actual µUSD ('' for a
 * release), action, retainMs. Returns {'notfound'} | {'committed', j, c, u, a} |
 * {'released', j, u, a} | {'over', j, u, a} | {'ok', j, u, a}.
 */
export const SETTLE = `${BIGNUM}${SUMS}
local P, id, actual, action, retain = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local rkey = P .. 'r:' .. id
local f = redis.call('HMGET', rkey, 'j', 's', 'c', 'u', 'k', 'a')
if not f[1] then return { 'notfound' } end
if f[2] == 'c' then return { 'committed', f[1], f[3], f[4], f[6] } end
if f[2] == 'x' then return { 'released', f[1], f[4], f[6] } end
local usd = f[4]
local amount = big(usd)
local paid = {0}
if action == 'c' then
  paid = big(actual)
  if cmp(paid, amount) > 0 then return { 'over', f[1], usd, f[6] } end
end
local member = 'h' .. usd .. ':' .. id
for _, scope in ipairs(scopes(f[5])) do
  local e = scope.e
  local tkey = P .. 't:' .. e
  hsub(tkey, 'h', amount)
  if action == 'c' then hadd(tkey, 'c', paid) else redis.call('HINCRBY', tkey, 'n', -1) end
  local zkey = P .. 'z:' .. e
  -- A member trimmed from the index no longer counts in any running sum either.
  if redis.call('ZREM', zkey, member) == 1 then
    if action == 'c' then
      redis.call('ZADD', zkey, f[6], 'c' .. actual .. ':' .. id)
      adjust(P, e, tonumber(f[6]), function(h, c, n) return sub(h, amount), add(c, paid), n end)
    else
      adjust(P, e, tonumber(f[6]), function(h, c, n) return sub(h, amount), c, n - 1 end)
    end
  end
  for _, period in ipairs(scope.periods) do
    local pkey = P .. 'p:' .. e .. ':' .. period.unit .. ':' .. period.start
    if redis.call('EXISTS', pkey) == 1 then
      hsub(pkey, 'h', amount)
      if action == 'c' then hadd(pkey, 'c', paid) else redis.call('HINCRBY', pkey, 'n', -1) end
      if redis.call('HINCRBY', pkey, 'nh', -1) <= 0 then
        redis.call('PEXPIRE', pkey, period.ttl)
      end
    end
  end
end
if action == 'c' then
  redis.call('HSET', rkey, 's', 'c', 'c', actual)
else
  redis.call('HSET', rkey, 's', 'x')
end
redis.call('ZREM', P .. 'held', id)
redis.call('PEXPIRE', rkey, retain)
return { 'ok', f[1], usd, f[6] }
`;

/** Usage of one scope in one window. ARGV: prefix, scope (encoded), kind, start. */
export const USAGE = `${BIGNUM}${SUMS}
local held, committed, n = sums(ARGV[1], ARGV[2], ARGV[3], ARGV[4])
return { str(held), str(committed), tostring(n) }
`;

/**
 * Held reservations due at `now`. ARGV: prefix, now score. Returns, per reservation, four
 * entries: j, u, q (its insertion number) and a (the time it counts at).
 */
export const EXPIRED = `
local P = ARGV[1]
local out = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', P .. 'held', '-inf', ARGV[2])) do
  local f = redis.call('HMGET', P .. 'r:' .. id, 'j', 'u', 'q', 's', 'a')
  if f[1] and f[4] == 'h' then
    out[#out + 1] = f[1]
    out[#out + 1] = f[2]
    out[#out + 1] = f[3]
    out[#out + 1] = f[5] or ''
  end
end
return out
`;
