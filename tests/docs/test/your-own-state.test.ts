// docs/your-own-state.md: the guide's state, its use with Mime and Config, the conformance suite on
// it, and what the guide says happens when a state returns null for a miss.
import { Mime, type IState, type MimicError } from "@mimic/core";
import { MyState } from "../snippets/my-state";
import { useMyState } from "../snippets/my-state-usage";
import "../snippets/my-state.conformance";

afterEach(() => Mime.setConfig({ state: new MyState() }));

describe("docs/your-own-state.md", () => {
  it("plugs MyState in: a sync function stays sync and hits, a cached undefined is a hit", async () => {
    expect(await useMyState()).toEqual(["add(1, 2) ran", "= 3", "= 3", "find(nobody) ran"]);
  });

  it("expires entries after their ttl, and at once with ttl 0", async () => {
    const state = new MyState();
    await state.set("k", 1, 0);
    expect(await state.get("k")).toBeUndefined();
    await state.set("k", 2, null);
    expect(await state.get("k")).toEqual({ value: 2 });
  });

  it("a state whose get returns null is reported once (MIMIC_STATE_CONTRACT) and read as a miss", async () => {
    const broken: IState = {
      get: async () => null as never,
      set: async () => undefined,
      delete: async () => undefined,
      clear: async () => undefined,
    };
    const errors: MimicError[] = [];
    let runs = 0;
    const f = Mime({ state: broken, onError: (error) => errors.push(error) })(async () => ++runs);
    expect(await f()).toBe(1);
    expect(await f()).toBe(2);
    expect(errors.map((error) => error.code)).toEqual(["MIMIC_STATE_CONTRACT"]);
  });

  it("a state with the Python seed's names is refused, naming what to rename", () => {
    class SeedState {
      async async_get(): Promise<undefined> {
        return undefined;
      }
      async async_set(): Promise<void> {}
    }
    expect(() => Mime.setConfig({ state: SeedState as never })).toThrow(/async_get → get/);
  });

  it("a sync function on a state without getSync/setSync is a ConfigError at decoration time", () => {
    const asyncOnly: IState = {
      get: async () => undefined,
      set: async () => undefined,
      delete: async () => undefined,
      clear: async () => undefined,
    };
    expect(() => Mime({ state: asyncOnly })((n: number) => n)).toThrow(expect.objectContaining({ code: "MIMIC_CONFIG" }));
  });
});
