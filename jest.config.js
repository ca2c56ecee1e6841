// Jest for the plugin frontend, set up like Grafana's create-plugin scaffold.
// Grafana's packages pull in dozens of ESM-only dependencies (d3-*, ol,
// @react-hookz, marked, some as .mjs); an allow-list of them breaks with
// every Grafana release, so node_modules is transformed as a whole (swc
// takes about a minute for it on a cold cache, then it is cached).
module.exports = {
  testEnvironment: 'jsdom',
  // A test takes about a second on an idle machine; a loaded 2-core CI
  // runner can be several times slower. Typing has no delays (newUser in
  // src/test/helpers.ts) and find* queries wait up to 15 s
  // (.config/jest/setup.js), so this bound only stops a test that hangs.
  testTimeout: 60000,
  roots: ['<rootDir>/src'],
  testMatch: ['<rootDir>/src/**/*.test.{ts,tsx}'],
  setupFiles: ['<rootDir>/.config/jest/shims.js'],
  setupFilesAfterEnv: ['<rootDir>/.config/jest/setup.js'],
  moduleNameMapper: {
    '\\.(css|scss|sass)$': 'identity-obj-proxy',
    'react-inlinesvg': '<rootDir>/.config/jest/mocks/react-inlinesvg.js',
  },
  transform: {
    '^.+\\.(t|j)sx?$': '@swc/jest',
    '^.+\\.mjs$': '@swc/jest',
  },
  transformIgnorePatterns: [],
  moduleFileExtensions: ['ts', 'tsx', 'js', 'jsx', 'mjs', 'json'],
};
