export { TempFileState } from "./temp-file-state.js";
export type { TempFileStateOptions } from "./options.js";
export type { SweepReport } from "./sweep.js";
export { FileSystemStateError, UnsafeDirectoryError } from "./errors.js";
export { FORMAT_VERSION } from "./format.js";
export { LAYOUT_VERSION } from "./paths.js";
