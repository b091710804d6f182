import { createClient } from "redis";

/** A plain node-redis client, for a test to look at or change the server directly. */
export type RawClient = ReturnType<typeof createClient>;

/** Connects a plain client to `url`; its errors are the test's to see through the commands that fail. */
export async function connectRawClient(url: string): Promise<RawClient> {
  const client = createClient({ url });
  client.on("error", () => undefined);
  await client.connect();
  return client;
}

/** How many times each command has run (`INFO commandstats`, lower case), summed over `clients`' servers. */
export async function commandCalls(clients: readonly RawClient[]): Promise<Map<string, number>> {
  const calls = new Map<string, number>();
  for (const client of clients) {
    const info = String(await client.sendCommand(["INFO", "commandstats"]));
    for (const [, command, count] of info.matchAll(/cmdstat_([a-z|]+):calls=(\d+)/g)) {
      calls.set(command!, (calls.get(command!) ?? 0) + Number(count));
    }
  }
  return calls;
}
