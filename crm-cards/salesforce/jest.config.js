// LWC Jest tests for the partner card (run by scripts/cards/lwc-tests.mjs, part of `npm test` at the root).
// @salesforce/sfdx-lwc-jest brings its own Jest 29 and the stubs of the lightning/* base components.
const { jestConfig } = require('@salesforce/sfdx-lwc-jest/config');

module.exports = {
    ...jestConfig,
    modulePathIgnorePatterns: ['<rootDir>/.localdevserver'],
    testMatch: ['<rootDir>/force-app/**/__tests__/**/*.test.js'],
};
