import { createHash } from "node:crypto";
import { ENTRY_FORMAT_VERSION, ENTRY_MAGIC } from "./entry-codec.js";

/** A Lua script and its SHA-1, for `EVALSHA` (with `EVAL` when a server has not seen it yet). */
export interface Script {
  readonly name: string;
  readonly source: string;
  readonly sha: string;
}

function script(name: string, source: string): Script {
  return { name, source, sha: createHash("sha1").update(source).digest("hex") };
}

/**
 * Adds an entry's key (ARGV[1]) to a tag set (KEYS[1]) and keeps the set alive at least as long as the
 * entry: ARGV[2] is the entry's lifetime in ms, or "" for none (the set then never expires). A set
 * only ever gets a longer expiry, never a shorter one. One key per script: a cluster routes it by the
 * tag set alone.
 */
export const ADD_TO_TAG = script(
  "add-to-tag",
  `local existed = redis.call('EXISTS', KEYS[1])
redis.call('SADD', KEYS[1], ARGV[1])
if ARGV[2] == '' then
  redis.call('PERSIST', KEYS[1])
  return 1
end
local ttl = redis.call('PTTL', KEYS[1])
local px = tonumber(ARGV[2])
if existed == 0 or (ttl >= 0 and ttl < px) then
  redis.call('PEXPIRE', KEYS[1], px)
end
return 1`,
);

/**
 * Unlinks the entry under KEYS[1] if it still carries the tag ARGV[1] (its bytes as in the entry
 * header, see entry-codec.ts): an entry written again without that tag, or something that is not an
 * entry (or an entry of another format), stays. Parses the format-2 header: magic, version, flags, name length + name, tag count
 * (uint16 BE), then length-prefixed tags.
 */
export const UNLINK_IF_TAGGED = script(
  "unlink-if-tagged",
  `local v = redis.call('GET', KEYS[1])
if not v then return 0 end
local size = #v
if size < 6 or string.byte(v, 1) ~= ${ENTRY_MAGIC} or string.byte(v, 2) ~= ${ENTRY_FORMAT_VERSION} then return 0 end
local pos = 5 + string.byte(v, 4)
if pos + 1 > size then return 0 end
local count = string.byte(v, pos) * 256 + string.byte(v, pos + 1)
pos = pos + 2
local want = ARGV[1]
for i = 1, count do
  if pos + 1 > size then return 0 end
  local len = string.byte(v, pos) * 256 + string.byte(v, pos + 1)
  pos = pos + 2
  if len == #want and string.sub(v, pos, pos + len - 1) == want then
    redis.call('UNLINK', KEYS[1])
    return 1
  end
  pos = pos + len
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
