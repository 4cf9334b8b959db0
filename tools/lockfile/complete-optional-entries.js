#!/usr/bin/env node
// The npm registry mirror this project is built against serves only this platform's native
// binaries (e.g. @swc/core-linux-x64-gnu): other platforms' optional packages answer 404, so
// `npm install` leaves them out of package-lock.json, and `npm ci` then refuses the lock as out
// of sync. This adds an optional placeholder entry for each such package; `npm ci` skips it on a
// platform that does not need it. Run it after any `npm install` that rewrites the lock:
//   node tools/lockfile/complete-optional-entries.js
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const lockPath = path.resolve(__dirname, '..', '..', 'package-lock.json');
const lock = JSON.parse(fs.readFileSync(lockPath, 'utf8'));
const packages = lock.packages;
let added = 0;

for (const [location, entry] of Object.entries(packages)) {
  for (const [name, spec] of Object.entries(entry.optionalDependencies ?? {})) {
    // Resolution looks in the package's own node_modules first, then each parent's, up to the root.
    const candidates = [];
    let base = location;
    for (;;) {
      candidates.push(`${base ? `${base}/` : ''}node_modules/${name}`);
      if (!base) break;
      const cut = base.lastIndexOf('/node_modules/');
      base = cut === -1 ? '' : base.slice(0, cut);
    }
    if (candidates.some((c) => packages[c])) continue;
    packages[`node_modules/${name}`] = { version: String(spec).replace(/^[\^~=]/, ''), optional: true };
    added += 1;
  }
}

const checkOnly = process.argv.includes('--check');
if (added > 0 && !checkOnly) {
  const sorted = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))));
  lock.packages = sorted;
  fs.writeFileSync(lockPath, `${JSON.stringify(lock, null, 2)}\n`);
}
console.log(`package-lock.json: ${added} optional platform entr${added === 1 ? 'y' : 'ies'} ${checkOnly ? 'missing (run node tools/lockfile/complete-optional-entries.js)' : 'added'}`);
