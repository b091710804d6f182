import { InvalidOptionError, Mime } from "@mimic/core";

// A BigInt ttl once made the message itself throw (JSON.stringify cannot print a BigInt), so the
// error named neither the option nor the value; it must be the InvalidOptionError every other
// non-number gets.

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
