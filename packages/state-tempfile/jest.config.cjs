// Two workers: these tests mostly wait on the disk, child processes and ttl timers, not the CPU.
/** @type {import('jest').Config} */
module.exports = { ...require("../../scripts/jest-preset.cjs")(__dirname), maxWorkers: 2 };
