/** @type {import('jest').Config} */
// The NestJS recipe needs legacy decorators with metadata: its test is a *.legacy.test.ts, compiled
// with tsconfig.legacy.json (and so is the recipe it imports).
module.exports = require("../../scripts/jest-preset.cjs")(__dirname, { legacyDecorators: true });
