import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from './compose.spec-helper';

describe('package-lock.json', () => {
  it('holds an entry for every optional platform package, so `npm ci` accepts it on a fresh clone', () => {
    // The script is idempotent: on a complete lock it adds nothing.
    const out = execFileSync(process.execPath, [path.join(REPO_ROOT, 'tools/lockfile/complete-optional-entries.js'), '--check'], {
      encoding: 'utf8',
    });
    expect(out).toContain(': 0 optional platform entries missing');
  });
});
