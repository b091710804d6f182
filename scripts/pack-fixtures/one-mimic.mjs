// One Mimic per process: an ESM app and a CommonJS dependency that both load @mimic/core share the
// global config, the tag and identity registries and the error classes.
import { createRequire } from "node:module";
import * as esm from "@mimic/core";

const require = createRequire(import.meta.url);
const cjs = require("@mimic/core");
const kit = require("@mimic/core/state-kit");

const reads = [];
class CountingState {
  local = true;
  map = new Map();
  getSync(key) {
    reads.push(key);
    return this.map.has(key) ? { value: this.map.get(key) } : undefined;
  }
  setSync(key, value) {
    this.map.set(key, value);
  }
  async get(key) {
    return this.getSync(key);
  }
  async set(key, value) {
    this.setSync(key, value);
  }
  async delete(key) {
    this.map.delete(key);
  }
  async clear() {
    this.map.clear();
  }
}

const check = (label, ok) => console.log(`${ok ? "ok" : "NOT OK"} ${label}`);

await esm.Mime.setConfig({ state: new CountingState() });
check("the CJS side sees the config set from ESM", cjs.Mime.getConfig() === esm.Mime.getConfig());
const double = cjs.Mime({ ttl: 60 })((n) => n * 2);
double(21);
double(21);
check("a function memoized through CJS uses the state set from ESM", reads.length >= 1 && esm.Mime.getConfig().getState().map.size === 1);

await cjs.Mime.setConfig(new cjs.Config({ state: esm.MemoryState }));
check("a Config built by the CJS build is accepted by either", esm.Mime.getConfig() instanceof cjs.Config);

const caught = (fn) => {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
};
const ttlError = caught(() => cjs.Mime({ ttl: -1 }));
check("a CJS error is instanceof the ESM classes", ttlError instanceof esm.InvalidTtlError && ttlError instanceof esm.MimicError);
const optionError = caught(() => kit.rejectUnknownOptions("X", { nope: 1 }, ["yes"]));
check("a state-kit error is instanceof InvalidOptionError of both builds", optionError instanceof esm.InvalidOptionError && optionError instanceof cjs.InvalidOptionError);
const stateError = new cjs.StateTimeoutError("get", 10);
check("subclasses keep their lineage across builds", stateError instanceof esm.StateError && !(stateError instanceof esm.CorruptEntryError));
