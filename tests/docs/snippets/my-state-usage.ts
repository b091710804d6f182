import { Config, Mime } from "@mimic/core";
import { MyState } from "./my-state.js";

export async function useMyState(): Promise<string[]> {
  const log: string[] = [];

  // For every function, as the seed's Mime.set_config(config=Config(state=MyState)):
  await Mime.setConfig(new Config({ state: MyState }));

  const add = Mime({ ttl: 60 })(function add(a: number, b: number): number {
    log.push(`add(${a}, ${b}) ran`);
    return a + b;
  });
  log.push(`= ${add(1, 2)}`); // runs: MyState has getSync/setSync, so a sync function works
  log.push(`= ${add(1, 2)}`); // a hit

  // Or for one function only:
  const state = new MyState();
  const find = Mime({ ttl: 60, state })(async (id: string) => {
    log.push(`find(${id}) ran`);
    return id === "nobody" ? undefined : { id };
  });
  await find("nobody");
  await find("nobody"); // a cached undefined is a hit: { value: undefined }, not a miss
  return log;
}
