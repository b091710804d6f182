export { describeStateConformance } from "./describe-state-conformance.js";
export type { StateCapabilities, StateConformanceOptions } from "./options.js";
