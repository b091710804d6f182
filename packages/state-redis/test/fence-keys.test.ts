import { FenceKeys } from "../src/fences.js";
import { fenceRecordKey, tagEpochKey } from "../src/keys.js";

// FenceKeys builds the fence keys of writes without concatenating them anew each time: it must give
// byte for byte the keys fenceRecordKey gives (a different byte would fence nothing).

test.each(["mimic:", "", "ü{x}:", "p\u{1F600}:"])("prefix %j: every fence key is fenceRecordKey's", (prefix) => {
  const keys = new FenceKeys(prefix);
  expect(keys.state.equals(fenceRecordKey(prefix, "state", ""))).toBe(true);
  expect(keys.epoch.equals(tagEpochKey(prefix))).toBe(true);
  const samples = ["f|A1:n1", "", "|", "no-namespace", "ns|é\u{1F600}", "bad\uD800|x", "ns|bad\uDC00", `long|${"x".repeat(2000)}`, `é|${"é".repeat(700)}`];
  for (const key of samples) {
    expect(keys.key(key).equals(fenceRecordKey(prefix, "key", key))).toBe(true);
    const fences = keys.covering(key);
    const end = key.indexOf("|");
    const expected = [fenceRecordKey(prefix, "state", ""), fenceRecordKey(prefix, "key", key)];
    if (end >= 0) expected.push(fenceRecordKey(prefix, "namespace", key.slice(0, end + 1)));
    expect(fences.map((fence) => fence.toString("hex"))).toEqual(expected.map((fence) => fence.toString("hex")));
  }
});

test("namespace fences stay right past the number it keeps", () => {
  const keys = new FenceKeys("p:");
  for (let i = 0; i < 3000; i++) {
    expect(keys.namespace(`n${i}|`).equals(fenceRecordKey("p:", "namespace", `n${i}|`))).toBe(true);
  }
  expect(keys.namespace("n5|").equals(fenceRecordKey("p:", "namespace", "n5|"))).toBe(true);
});
