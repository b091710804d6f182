import { readFile as readFileCallback, readFileSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { deserialize, serialize } from "node:v8";
import { Mime, msgpackSerializer } from "@mimic/core";
import * as msgpackr from "msgpackr";
import { BentoCache, bentostore } from "bentocache";
import { fileDriver } from "bentocache/drivers/file";
import { checksumOf, hitCase } from "../cases.js";
import { record, type RecordValue, serializedSize } from "../data.js";
import { atMost } from "../goals.js";
import { measureCases } from "../measure.js";
import type { Scenario } from "../scenario.js";

const FLOOR_SYNC = "readFileSync + v8.deserialize";
const MIMIC_SYNC = "Mimic: Mime({ ttl, state: TempFileState, name })(syncFn)";
const BENTO = "bentocache getOrSet (file driver, L2 only)";
const MIMIC_ASYNC = "Mimic: Mime({ ttl, state: TempFileState, name })(asyncFn)";
const MIMIC_ASYNC_STATIC = "Mimic: same, TempFileState({ static: true })";
const TTL_SECONDS = 3_600;

const size = serializedSize(record(1));
const syncTable = {
  id: "9a",
  title: "Temp-file hit, sync",
  measures: `one sync call whose ~${size}-byte record is on disk (64 distinct ids)`,
};
const asyncTable = {
  id: "9b",
  title: "Temp-file hit, async",
  measures: `one awaited call whose ~${size}-byte record is on disk (64 distinct ids)`,
};

export const tempFileHits: Scenario = {
  id: "9",
  title: "Temp-file hit",
  tables: [syncTable, asyncTable],
  async run(context) {
    const TempFileState = await context.tempFileState();
    const state = new TempFileState({ basePath: context.tempDir("s9-mimic") });
    context.defer(() => state.close?.());
    const ids = Array.from({ length: 64 }, (_, i) => i + 1);
    const columns = [ids];
    const expected = await checksumOf(record, columns, "id");

    // The floors read files holding exactly the v8 bytes of the same record.
    const floorDir = context.tempDir("s9-floor");
    const floorPaths: string[] = [];
    for (const id of ids) {
      floorPaths[id] = path.join(floorDir, `${id}.bin`);
      writeFileSync(floorPaths[id]!, serialize(record(id)));
    }
    const readSync = (id: number): RecordValue => deserialize(readFileSync(floorPaths[id]!)) as RecordValue;
    const readAsync = async (id: number): Promise<RecordValue> => deserialize(await readFile(floorPaths[id]!)) as RecordValue;
    const readCallback = (id: number): Promise<RecordValue> =>
      new Promise((resolve, reject) =>
        readFileCallback(floorPaths[id]!, (error, bytes) => (error ? reject(error) : resolve(deserialize(bytes) as RecordValue))),
      );

    let syncCalls = 0;
    let asyncCalls = 0;
    let bentoCalls = 0;
    let sharedCalls = 0;
    const loadUserShared = async function loadUser(id: number): Promise<RecordValue> {
      sharedCalls++;
      return record(id);
    };
    // A static state is shared with other processes (like bentocache's file driver), so Mimic reads it
    // through the async fs API; the default, private state is process-local and read synchronously.
    const staticState = new TempFileState({ basePath: context.tempDir("s9-static"), static: true });
    context.defer(() => staticState.close?.());
    const loadUserSync = function loadUserSync(id: number): RecordValue {
      syncCalls++;
      return record(id);
    };
    // The same sync hit with MessagePack (issue 22: measured against v8 for plain data).
    const msgpackState = new TempFileState({ basePath: context.tempDir("s9-msgpack"), serializer: msgpackSerializer(msgpackr) });
    context.defer(() => msgpackState.close?.());
    let msgpackCalls = 0;
    const loadUserMsgpack = function loadUserSync(id: number): RecordValue {
      msgpackCalls++;
      return record(id);
    };
    const loadUser = async function loadUser(id: number): Promise<RecordValue> {
      asyncCalls++;
      return record(id);
    };
    const bento = new BentoCache({
      default: "file",
      stores: { file: bentostore().useL2Layer(fileDriver({ directory: context.tempDir("s9-bento"), pruneInterval: false })) },
    });
    context.defer(() => bento.disconnectAll());

    const base = { columns, expected, consume: "id" as const };
    const syncCases = [
      await hitCase({ ...base, name: FLOOR_SYNC, reference: true, memoized: readSync, mode: "sync", executions: () => 0 }),
      await hitCase({
        ...base,
        name: MIMIC_SYNC,
        memoized: Mime({ ttl: TTL_SECONDS, state, name: "s9.loadUserSync" })(loadUserSync),
        mode: "sync",
        executions: () => syncCalls,
      }),
      await hitCase({
        ...base,
        name: "Mimic: same, serializer: msgpackSerializer(msgpackr)",
        memoized: Mime({ ttl: TTL_SECONDS, state: msgpackState, name: "s9.loadUserSync.msgpack" })(loadUserMsgpack),
        mode: "sync",
        executions: () => msgpackCalls,
      }),
    ];
    const asyncCases = [
      await hitCase({
        ...base,
        name: BENTO,
        reference: true,
        memoized: (id: number) =>
          bento.getOrSet({
            key: `user:${id}`,
            factory: () => {
              bentoCalls++;
              return record(id);
            },
            ttl: "1h",
          }),
        mode: "await",
        executions: () => bentoCalls,
      }),
      await hitCase({
        ...base,
        name: MIMIC_ASYNC,
        memoized: Mime({ ttl: TTL_SECONDS, state, name: "s9.loadUser" })(loadUser),
        mode: "await",
        executions: () => asyncCalls,
      }),
      await hitCase({
        ...base,
        name: MIMIC_ASYNC_STATIC,
        memoized: Mime({ ttl: TTL_SECONDS, state: staticState, name: "s9.loadUser.static" })(loadUserShared),
        mode: "await",
        executions: () => sharedCalls,
      }),
      await hitCase({
        ...base,
        name: "fs.promises.readFile + v8.deserialize (floor)",
        memoized: readAsync,
        mode: "await",
        executions: () => 0,
      }),
      await hitCase({
        ...base,
        name: "fs.readFile (callback) + v8.deserialize (floor)",
        memoized: readCallback,
        mode: "await",
        executions: () => 0,
      }),
    ];
    const syncRows = await measureCases(syncCases, context.settings);
    const asyncRows = await measureCases(asyncCases, context.settings);
    const notes = ["Files live in a fresh directory under the OS temp dir (page cache warm, as for any repeated hit)."];
    const asyncNotes = [
      ...notes,
      "The default TempFileState (private directory) is process-local, so Mimic answers an async call with its sync read; a static (shared) state reads entries up to inlineReadBytes (64 KiB) on the calling thread too, after a stat, instead of through the thread pool.",
    ];
    return [
      {
        ...syncTable,
        rows: syncRows,
        goals: [atMost("(9a) sync hit ≤ 1.3× readFileSync + v8.deserialize", syncRows, MIMIC_SYNC, FLOOR_SYNC, 1.3)],
        notes,
      },
      {
        ...asyncTable,
        rows: asyncRows,
        goals: [
          atMost("(9b) async hit ≤ ½ bentocache's file driver", asyncRows, MIMIC_ASYNC, BENTO, 0.5),
          atMost("(9b, static state, issue 18) async hit ≤ 0.2× bentocache's file driver", asyncRows, MIMIC_ASYNC_STATIC, BENTO, 0.2),
        ],
        notes: asyncNotes,
      },
    ];
  },
};
