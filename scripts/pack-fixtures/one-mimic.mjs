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

// Wrappers from the two builds, on the global config's (process-local) state: each is its own
// namespace, whatever each build counted before, and so is each instance one is called on.
const esmFinds = [];
const cjsFinds = [];
for (let i = 0; i < 4; i++) {
  esmFinds.push(esm.Mime({ ttl: 60 })((id) => `esm ${i}:${id}`));
  cjsFinds.push(cjs.Mime({ ttl: 60 })((id) => `cjs ${i}:${id}`));
}
const everyAnswer = () => [...esmFinds, ...cjsFinds].map((find) => find(7)).join(",");
const expected = [0, 1, 2, 3].map((i) => `esm ${i}:7`).concat([0, 1, 2, 3].map((i) => `cjs ${i}:7`)).join(",");
check("wrappers from the two builds never share entries", everyAnswer() === expected && everyAnswer() === expected);
const describeEsm = esm.Mime({ ttl: 60 })(function describe(id) {
  return `esm:${this.name}:${id}`;
});
const describeCjs = cjs.Mime({ ttl: 60 })(function describe(id) {
  return `cjs:${this.name}:${id}`;
});
const instances = [0, 1, 2, 3].map((i) => ({ name: `instance ${i}` }));
const described = () => instances.flatMap((instance) => [describeEsm.call(instance, 1), describeCjs.call(instance, 1)]).join(",");
const expectedDescriptions = instances.flatMap(({ name }) => [`esm:${name}:1`, `cjs:${name}:1`]).join(",");
check("instances seen by the two builds never share entries", described() === expectedDescriptions && described() === expectedDescriptions);
