// Three workers on two cores: these tests mostly wait on the disk, child processes and ttl timers,
// not the CPU, and the two conformance files (about 30 s each) then run beside the rest.
/** @type {import('jest').Config} */
module.exports = { ...require("../../scripts/jest-preset.cjs")(__dirname), maxWorkers: 3 };
