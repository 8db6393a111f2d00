#!/usr/bin/env node
'use strict';
// Runs the compiled CLI (npm ci / npm install build it via the "prepare" script; `npm run build` rebuilds).
const path = require('node:path');
const fs = require('node:fs');
const entry = path.join(__dirname, '..', 'dist', 'src', 'cli.js');
if (!fs.existsSync(entry)) {
  console.error('dealreg: not built yet. Run `npm run build` (npm ci does it for you).');
  process.exit(2);
}
require(entry).main(process.argv);
