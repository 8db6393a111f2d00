#!/usr/bin/env node
// Runs the Salesforce partner card's LWC Jest tests (crm-cards/salesforce, `npm test` runs this after jest).
// @salesforce/sfdx-lwc-jest brings its own Jest 29, so it lives in crm-cards/salesforce/package.json, not in
// the root package: on a clean clone (CI) this installs it there from the committed lockfile with `npm ci`,
// then runs `sfdx-lwc-jest` there and exits with its code. Extra arguments go to sfdx-lwc-jest
// (e.g. `node scripts/cards/lwc-tests.mjs -- --watch`).
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const project = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'crm-cards', 'salesforce');
const windows = process.platform === 'win32';

function run(command, args) {
  const result = spawnSync(command, args, { cwd: project, stdio: 'inherit', shell: windows });
  if (result.error) {
    console.error(`lwc-tests: could not run ${command}: ${result.error.message}`);
    return 1;
  }
  if (result.signal) {
    console.error(`lwc-tests: ${command} was stopped by ${result.signal}`);
    return 1;
  }
  return result.status ?? 1;
}

/** node_modules is missing, or older than the lockfile (someone changed the dependencies since the last install). */
function needsInstall() {
  const installed = path.join(project, 'node_modules', '.package-lock.json');
  const lockfile = path.join(project, 'package-lock.json');
  if (!existsSync(path.join(project, 'node_modules', '@salesforce', 'sfdx-lwc-jest')) || !existsSync(installed)) return true;
  return statSync(installed).mtimeMs < statSync(lockfile).mtimeMs;
}

if (needsInstall()) {
  console.log('lwc-tests: installing @salesforce/sfdx-lwc-jest in crm-cards/salesforce (npm ci)');
  const code = run(windows ? 'npm.cmd' : 'npm', ['ci', '--no-audit', '--no-fund']);
  if (code !== 0) process.exit(code);
}

const extra = process.argv.slice(2).filter((arg, i) => !(i === 0 && arg === '--'));
process.exit(run(windows ? 'npx.cmd' : 'npx', ['--no', 'sfdx-lwc-jest', '--', ...extra]));
