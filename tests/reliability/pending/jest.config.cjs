// The pending tests: cases that fail because of a package bug (see README.md here). They are kept out
// of `pnpm test` (its glob is test/**/*.test.ts) until the package is fixed, and run with
//   cd tests/reliability && pnpm exec jest -c pending/jest.config.cjs
const path = require("node:path");

const config = require("../../../scripts/jest-preset.cjs")(path.join(__dirname, ".."));
for (const project of config.projects) project.testMatch = ["<rootDir>/pending/**/*.test.ts"];
module.exports = config;
