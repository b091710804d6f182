// Shared jest configuration for every workspace package.
// Tests import sibling packages from their sources so that a change in core is seen without a rebuild;
// turbo still builds first, because the Redis state's worker thread must load built JavaScript.
const path = require("node:path");

const root = path.resolve(__dirname, "..");
const workspaceSources = {
  "^@mimic/core$": path.join(root, "packages/core/src/index.ts"),
  "^@mimic/core/state-kit$": path.join(root, "packages/core/src/state-kit.ts"),
  "^@mimic/state-test-suite$": path.join(root, "packages/state-test-suite/src/index.ts"),
  "^@mimic/state-redis$": path.join(root, "packages/state-redis/src/index.ts"),
  "^@mimic/state-tempfile$": path.join(root, "packages/state-tempfile/src/index.ts"),
};

function project(dir, { displayName, tsconfig, testMatch, testPathIgnorePatterns = [] }) {
  return {
    displayName,
    rootDir: dir,
    testEnvironment: "node",
    testMatch,
    testPathIgnorePatterns: ["/node_modules/", "/dist/", ...testPathIgnorePatterns],
    // Sources import "./x.js" (NodeNext style); under ts-jest that is "./x.ts".
    moduleNameMapper: { "^(\\.{1,2}/.*)\\.js$": "$1", ...workspaceSources },
    transform: {
      "^.+\\.tsx?$": ["ts-jest", { tsconfig: path.join(dir, tsconfig), diagnostics: { warnOnly: false } }],
    },
  };
}

/**
 * @param {string} dir the package directory
 * @param {{ legacyDecorators?: boolean }} [options] add a second project that compiles
 *   `*.legacy.test.ts` with `experimentalDecorators`
 */
module.exports = function preset(dir, options = {}) {
  const name = require(path.join(dir, "package.json")).name;
  const projects = [
    project(dir, {
      displayName: name,
      tsconfig: "tsconfig.json",
      testMatch: ["<rootDir>/test/**/*.test.ts"],
      testPathIgnorePatterns: ["\\.legacy\\.test\\.ts$"],
    }),
  ];
  if (options.legacyDecorators) {
    projects.push(
      project(dir, {
        displayName: `${name} (legacy decorators)`,
        tsconfig: "tsconfig.legacy.json",
        testMatch: ["<rootDir>/test/**/*.legacy.test.ts"],
      }),
    );
  }
  return { projects, testTimeout: 30_000 };
};
