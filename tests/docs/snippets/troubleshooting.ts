import { Mime, MimicError, type ErrorContext } from "@mimic/core";

/** Your logger (or metrics): one line per absorbed error, with its stable code. */
export interface Log {
  warn(fields: { code: string; fn: string; op: string }, message: string): void;
}

export async function reportTo(log: Log): Promise<void> {
  await Mime.setConfig({
    onError: (error: MimicError, context: ErrorContext) =>
      log.warn({ code: error.code, fn: context.functionName, op: context.operation }, error.message),
  });
}

/** Branch on the code, never on the message. */
export function isMisconfiguration(error: unknown): boolean {
  return error instanceof MimicError && (error.code === "MIMIC_CONFIG" || error.code === "MIMIC_INVALID_OPTION");
}
