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
 * Before a tagged write: reads the tags' records KEYS (the server time of each tag's last
 * invalidation, in microseconds) and returns the server's time now followed by each stamp, as
 * strings. A missing record (never written, expired or evicted: its entries are already stale) is
 * created stamped one microsecond ago, so entries older than now stay stale and a write from now on
 * can be fresh. Each record is kept at least as long as the entry: ARGV[1] is the entry's lifetime in
 * ms, or "" for none (the record then never expires). Only ever lengthens a record's life. All
 * records of a state share one cluster slot (see tagRecordKey), so this is one atomic script.
 */
export const CHECK_TAGS = script(
  "check-tags",
  `${NOW}
local reply = {string.format('%.0f', now)}
for i, key in ipairs(KEYS) do
  local stamp = redis.call('GET', key)
  local created = false
  if not stamp then
    stamp = string.format('%.0f', now - 1)
    redis.call('SET', key, stamp)
    created = true
  end
  if ARGV[1] == '' then
    redis.call('PERSIST', key)
  else
    local px = tonumber(ARGV[1])
    local ttl = redis.call('PTTL', key)
    if (created and ttl == -1) or (ttl >= 0 and ttl < px) then redis.call('PEXPIRE', key, px) end
  end
  reply[i + 1] = stamp
end
return reply`,
);

/**
 * Invalidates tags: stamps each record in KEYS with the server's time now (one atomic script; a
 * retry only stamps them later). A record that never expires stays so; any other lives at least
 * ARGV[1] ms more, so that writes whose execution began before now can be refused that long.
 */
export const STAMP_TAGS = script(
  "stamp-tags",
  `${NOW}
local stamp = string.format('%.0f', now)
for _, key in ipairs(KEYS) do
  local ttl = redis.call('PTTL', key)
  if ttl == -1 then
    redis.call('SET', key, stamp, 'KEEPTTL')
  else
    redis.call('SET', key, stamp, 'PX', string.format('%.0f', math.max(ttl, tonumber(ARGV[1]))))
  end
end
return stamp`,
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
