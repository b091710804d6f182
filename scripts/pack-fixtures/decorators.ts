// Copied by scripts/pack-test.mjs to decorators.mts (ESM) and decorators.cts (CommonJS), and compiled
// with TC39 decorators (the TypeScript 5 default) and with experimentalDecorators: the same source
// must type-check and run in all four combinations against the installed tarball.
import { Mime, MemoryState, type MimeStats } from "@mimic/core";

let findCalls = 0;
let addCalls = 0;

class Users {
  constructor(private readonly tenant: string) {}

  @Mime({ ttl: 60 })
  async find(id: string) {
    findCalls += 1;
    return `${this.tenant}:${id}`;
  }
}

const add = Mime({ ttl: 60, state: new MemoryState({ maxEntries: 10 }) })(function add(a: number, b: number): number {
  addCalls += 1;
  return a + b;
});

// Never called: it only has to type-check. Each @ts-expect-error fails the build if the line
// compiles, which proves the wrapper's types are the original ones and not `any`.
export function typeChecks(users: Users): void {
  // Options from the environment compile under exactOptionalPropertyTypes.
  const fromEnv = Mime({ name: process.env.MIMIC_NAME, version: process.env.MIMIC_VERSION, ttl: undefined, strict: undefined })((n: number) => n);
  const same: number = fromEnv(1);
  const n: number = add(1, 2);
  const p: Promise<string> = users.find("x");
  const key: string = add.key(1, 2);
  const stats: MimeStats = add.stats();
  // @ts-expect-error a string where the wrapped function takes a number
  add("1", 2);
  // @ts-expect-error the sync wrapper returns number, not string (nor any)
  const s: string = add(1, 2);
  // @ts-expect-error the sync wrapper does not return a promise
  const q: Promise<number> = add(1, 2);
  // @ts-expect-error a number where the decorated method takes a string
  void users.find(42);
  void [n, p, key, stats, s, q];
}

async function main(): Promise<void> {
  const first = add(1, 2);
  const second = add(1, 2);
  console.log(`add ${typeof second} ${first} ${second} calls=${addCalls}`);

  const alice = new Users("alice");
  const bob = new Users("bob");
  const a1 = await alice.find("x");
  const a2 = await alice.find("x");
  const b1 = await bob.find("x");
  console.log(`find ${a1} ${a2} ${b1} calls=${findCalls}`);

  const together = await Promise.all(Array.from({ length: 20 }, () => alice.find("y")));
  console.log(`concurrent ${new Set(together).size} ${together[0]} calls=${findCalls}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
