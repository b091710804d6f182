import { expectHit } from "../assertions.js";
import {
  deepNesting,
  jsonLookalikes,
  largeArray,
  largeString,
  missLookalikes,
  negativeZero,
  nestedJson,
  structuredCloneCases,
  type ValueCase,
} from "../fixtures/values.js";
import type { SuiteContext } from "../harness.js";
import type { OperationsKind } from "../operations.js";

/** Falsy values are hits; JSON-safe values round-trip; structured-clone values when claimed. */
export function registerValueTests(context: SuiteContext, kind: OperationsKind): void {
  const { structuredClone } = context.options.capabilities;

  context.describe("values that look like a miss are hits", () => {
    for (const valueCase of structuredClone ? [...missLookalikes, negativeZero] : missLookalikes) {
      context.test(`cached ${valueCase.title} is a hit`, async () => {
        const state = kind.bind(await context.createState());
        await state.set("k", valueCase.make(), null);
        // The operations wrapper already checks that a hit is an object with a "value" property.
        expectHit(await state.get("k"), valueCase.make(), `get of a cached ${valueCase.title}`);
      });
    }
  });

  context.describe("JSON-safe values", () => {
    roundTrip(context, kind, { title: "nested structures with unicode, control characters and edge numbers", make: nestedJson });
    roundTrip(context, kind, { title: "an object nested 200 levels deep", make: deepNesting });
    roundTrip(context, kind, { title: "a 1 MiB string", make: largeString });
    roundTrip(context, kind, { title: "a 100,000-element array", make: largeArray });
    context.test("values that look like an entry, a serializer marker or a falsy value's text", async () => {
      const state = kind.bind(await context.createState());
      for (const [i, valueCase] of jsonLookalikes.entries()) await state.set(`lookalike-${i}`, valueCase.make(), null);
      for (const [i, valueCase] of jsonLookalikes.entries()) {
        expectHit(await state.get(`lookalike-${i}`), valueCase.make(), `get of ${valueCase.title}`);
      }
    });
  });

  if (structuredClone) {
    context.describe("structured-clone values", () => {
      for (const valueCase of structuredCloneCases) roundTrip(context, kind, valueCase);
    });
  }
}

function roundTrip(context: SuiteContext, kind: OperationsKind, valueCase: ValueCase): void {
  context.test(`round trip of ${valueCase.title}`, async () => {
    const state = kind.bind(await context.createState());
    await state.set("k", valueCase.make(), null);
    expectHit(await state.get("k"), valueCase.make(), `get of ${valueCase.title}`);
  });
}
