import { createHash } from "node:crypto";

/** A Lua script and its SHA-1, for `EVALSHA` (with `EVAL` when a server has not seen it yet). */
export interface Script {
  readonly name: string;
  readonly source: string;
  readonly sha: string;
}

function script(name: string, source: string): Script {
  return { name, source, sha: createHash("sha1").update(source).digest("hex") };
}

/** Lua: the server's time in microseconds, as a number (exact: below 2^53). */
const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])`;

/**
 * Lua: `check(first, last, tags, px, start, listed)` reads the records KEYS[first..last] (the first
 * `tags` are tag records, the rest fences) and returns whether one is stamped at or after `start` (nil:
 * no check) and, when `listed`, the stamps, as strings ("" for a missing fence). The state's tag epoch is KEYS[#KEYS]:
 * a missing tag record is recreated with it, and a missing epoch is created "one microsecond ago".
 * A tag record is kept at least `px` ms ("" : forever). Needs `now` (see NOW). Each record is read
 * once per script (`stamps`, which `prefetch` can fill with one MGET): a script is atomic, and the
 * only records it changes are the tag records it creates, which it notes.
 */
const CHECK = `local epoch = nil
local known = {}
local function stampOf(key)
  local stamp = known[key]
  if stamp == nil then
    stamp = redis.call('GET', key)
    known[key] = stamp
  end
  return stamp
end
local function prefetch(keys)
  for first = 1, #keys, 1000 do
    local last = math.min(first + 999, #keys)
    local stamps = redis.call('MGET', unpack(keys, first, last))
    for i = first, last do known[keys[i]] = stamps[i - first + 1] end
  end
end
local function check(first, last, tags, px, start, listed)
  local stamps = listed and {} or nil
  local bad = false
  if tags > 0 and not epoch then
    epoch = redis.call('GET', KEYS[#KEYS])
    if not epoch then
      epoch = string.format('%.0f', now - 1)
      redis.call('SET', KEYS[#KEYS], epoch)
    end
  end
  for i = first, last do
    local key = KEYS[i]
    local stamp = stampOf(key)
    if i < first + tags then
      local created = false
      if not stamp then
        stamp = epoch
        redis.call('SET', key, stamp)
        known[key] = stamp
        created = true
      end
      if px == '' then
        redis.call('PERSIST', key)
      else
        local ttl = redis.call('PTTL', key)
        if (created and ttl == -1) or (ttl >= 0 and ttl < tonumber(px)) then redis.call('PEXPIRE', key, px) end
      end
    end
    if stamp and start and tonumber(stamp) >= start then bad = true end
    if listed then stamps[#stamps + 1] = stamp or '' end
  end
  return bad, stamps
end
local function store(key, value, px)
  if px == '' then redis.call('SET', key, value) else redis.call('SET', key, value, 'PX', px) end
end`;

/**
 * Before a tagged or fenced write: reads the records KEYS (each the server time, in microseconds,
 * of the last invalidation of a tag, a key, a namespace or the whole state) and returns the server's
 * time now followed by each stamp, as strings ("" for a missing fence); the last key is the state's
 * tag epoch. The first ARGV[2] keys are tag records: a missing one (never written, expired or
 * evicted: its entries are already stale) is created stamped with the epoch, the time of the
 * state's latest tag invalidation, which no lost stamp can exceed (a missing epoch is created
 * stamped one microsecond ago, which none can exceed either), so entries older than it stay stale
 * and a write whose execution began after it can be fresh; each is kept at least as long as the entry (ARGV[1]: its lifetime in ms, or ""
 * for none: the record then never expires; a record's life is only ever lengthened). A missing fence
 * means no invalidation within its retention. All records of a state share one cluster slot (see
 * tagRecordKey), so this is one atomic script.
 */
export const CHECK_RECORDS = script(
  "check-records",
  `${NOW}
${CHECK}
local _, stamps = check(1, #KEYS - 1, tonumber(ARGV[2]), ARGV[1], nil, true)
table.insert(stamps, 1, string.format('%.0f', now))
return stamps`,
);

/**
 * Fenced writes on one server (one, or the fenced writes of a tick), in one atomic script: ARGV[1]
 * entries, each stored (with `PX` unless "") only if none of its records (tag records first, checked
 * and created as in CHECK_RECORDS, then fences) is stamped at or after its start (the start of the
 * value's execution, server microseconds). Entry e takes, in order, its key then its records from
 * KEYS, and five ARGV: the bytes, PX ("" for none), its start, its number of tag records, its number
 * of records. The state's tag epoch is the last key. Returns one 1 (stored) or 0 (refused) per
 * entry. The distinct records are read first, with one MGET.
 */
export const FENCED_SET = script(
  "fenced-set",
  `${NOW}
${CHECK}
local stored = {}
local records, seen = {}, {}
local k, a = 1, 2
for e = 1, tonumber(ARGV[1]) do
  for i = k + 1, k + tonumber(ARGV[a + 4]) do
    if not seen[KEYS[i]] then
      seen[KEYS[i]] = true
      records[#records + 1] = KEYS[i]
    end
  end
  k, a = k + tonumber(ARGV[a + 4]) + 1, a + 5
end
prefetch(records)
k, a = 1, 2
for e = 1, tonumber(ARGV[1]) do
  local value, px, start, tags, records = ARGV[a], ARGV[a + 1], tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3]), tonumber(ARGV[a + 4])
  a = a + 5
  if check(k + 1, k + records, tags, px, start, false) then
    stored[e] = 0
  else
    store(KEYS[k], value, px)
    stored[e] = 1
  end
  k = k + records + 1
end
return stored`,
);

/**
 * Invalidates tags, keys, namespaces or the state: stamps each record in KEYS with the server's time
 * now (one atomic script; a retry only stamps them later). A record that never expires stays so; any
 * other lives at least ARGV[1] ms more, so that writes whose execution began before now can be
 * refused that long. With ARGV[2] "1", the last key is the state's tag epoch, stamped and kept
 * forever.
 */
export const STAMP_RECORDS = script(
  "stamp-records",
  `${NOW}
local stamp = string.format('%.0f', now)
local last = #KEYS
if ARGV[2] == '1' then
  redis.call('SET', KEYS[last], stamp)
  last = last - 1
end
for i = 1, last do
  local key = KEYS[i]
  local ttl = redis.call('PTTL', key)
  if ttl == -1 then
    redis.call('SET', key, stamp, 'KEEPTTL')
  else
    redis.call('SET', key, stamp, 'PX', string.format('%.0f', math.max(ttl, tonumber(ARGV[1]))))
  end
end
return stamp`,
);

/**
 * Reads many keys with their remaining lives (the local layer's fills of one tick, one slot): for
 * each key in KEYS, its value (false when missing) then its PTTL (-1: no expiry, -2: gone).
 */
export const GET_WITH_TTL_MANY = script(
  "get-with-ttl-many",
  `local reply = {}
for i = 1, #KEYS do
  reply[2 * i - 1] = redis.call('GET', KEYS[i])
  reply[2 * i] = redis.call('PTTL', KEYS[i])
end
return reply`,
);

/** Unlinks KEYS[1] only if it still holds exactly ARGV[1] (a stale entry nobody rewrote since). */
export const UNLINK_IF_EQUAL = script(
  "unlink-if-equal",
  `if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('UNLINK', KEYS[1])
end
return 0`,
);

/** Deletes the lease KEYS[1] only if it still holds token ARGV[1] (compare-and-delete). */
export const UNLOCK = script(
  "unlock",
  `if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`,
);
