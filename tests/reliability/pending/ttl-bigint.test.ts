import { InvalidOptionError, Mime } from "@mimic/core";

// Pending: fails until packages/core/src/ttl.ts describes a bigint without JSON.stringify.
// `validateTtl` builds its message with `JSON.stringify(ttl)`, which throws on a BigInt, so
// `Mime({ ttl: 1n })` throws a bare `TypeError: Do not know how to serialize a BigInt` that names
// neither the option nor the value, instead of the InvalidOptionError every other non-number gets.

it("ttl 1n ⇒ InvalidOptionError at decoration time, naming the option and the value", () => {
  let thrown: unknown;
  try {
    Mime({ ttl: 1n } as never);
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(InvalidOptionError);
  expect((thrown as InvalidOptionError).code).toBe("MIMIC_INVALID_OPTION");
  expect((thrown as Error).message).toMatch(/ttl/);
  expect((thrown as Error).message).toMatch(/bigint/);
  expect((thrown as Error).message).toMatch(/1n?/);
});
