/** @type {import('jest').Config} */
const swc = ['@swc/jest', { jsc: { parser: { syntax: 'typescript', decorators: false }, target: 'es2022' }, module: { type: 'commonjs' } }];
const common = {
  transform: { '^.+\\.(t|j)s$': swc },
  testEnvironment: 'node',
  // nock's interceptor lives on the global scope across files; jest 30's soft-delete of globals only warns about it.
  testEnvironmentOptions: { globalsCleanup: 'off' },
  setupFilesAfterEnv: ['<rootDir>/test/helpers/setup-network.ts'],
  moduleFileExtensions: ['ts', 'js', 'json'],
};
module.exports = {
  testTimeout: 30000,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    { ...common, displayName: 'adapters', testMatch: ['<rootDir>/test/adapters/**/*.test.ts'] },
    { ...common, displayName: 'sandbox', testMatch: ['<rootDir>/test/sandbox/**/*.test.ts'] },
    { ...common, displayName: 'component', testMatch: ['<rootDir>/test/component/**/*.test.ts'], globalSetup: '<rootDir>/test/helpers/global-setup.ts' },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.test.ts'], globalSetup: '<rootDir>/test/helpers/global-setup.ts' },
    // The HubSpot app card (React, @hubspot/ui-extensions), rendered with @hubspot/ui-extensions/testing.
    {
      ...common,
      displayName: 'hubspot-card',
      testMatch: ['<rootDir>/crm-cards/hubspot/**/*.test.tsx'],
      transform: { '^.+\\.(t|j)sx?$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript', tsx: true }, transform: { react: { runtime: 'automatic' } }, target: 'es2022' }, module: { type: 'commonjs' } }] },
      moduleFileExtensions: ['tsx', 'ts', 'js', 'json'],
      // @hubspot/ui-extensions and its tinyspy are ESM-only: let swc turn them into CommonJS too.
      transformIgnorePatterns: ['/node_modules/(?!(@hubspot/ui-extensions|tinyspy)/)'],
    },
  ],
};
