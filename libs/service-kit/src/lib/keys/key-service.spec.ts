import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { KeyService } from './key-service';

const PURPOSE = 'key-service.spec';

/**
 * A separate process that, once `go` exists, opens (creating if missing) the keyring and wraps a
 * secret with the master key it holds; it writes `ready` when it is loaded and waiting.
 */
function wrapInAnotherProcess(file: string, secret: string, ready: string, go: string): Promise<{ wrapped: string; version: string }> {
  const script = `
    const { existsSync, writeFileSync } = require('node:fs');
    const { KeyService } = require(${JSON.stringify(path.join(__dirname, 'key-service.ts'))});
    writeFileSync(${JSON.stringify(ready)}, '');
    const pause = new Int32Array(new SharedArrayBuffer(4));
    while (!existsSync(${JSON.stringify(go)})) Atomics.wait(pause, 0, 0, 1);
    const keys = KeyService.open(${JSON.stringify(file)}, { create: true });
    const version = keys.currentMasterVersion;
    process.stdout.write(JSON.stringify({ wrapped: keys.wrapWithMaster(Buffer.from(${JSON.stringify(secret)}), ${JSON.stringify(PURPOSE)}, version), version }));
  `;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['-r', '@swc-node/register', '-e', script], { timeout: 60_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${String(error)}\n${stderr}`));
      else resolve(JSON.parse(stdout) as { wrapped: string; version: string });
    });
  });
}

describe('KeyService', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'cairn-keyring-'));
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates a missing keyring readable by its owner only, and opens an existing one as it is', () => {
    const file = path.join(dir, 'nested', 'keyring.json');
    const first = KeyService.open(file, { create: true });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const wrapped = first.wrapWithMaster(Buffer.from('data key'), PURPOSE);
    const again = KeyService.open(file, { create: true });
    expect(again.unwrapWithMaster(wrapped, PURPOSE, again.currentMasterVersion).toString()).toBe('data key');
  });

  it('refuses a missing keyring unless asked to create one', () => {
    expect(() => KeyService.open(path.join(dir, 'keyring.json'), { create: false })).toThrow(/does not exist/);
  });

  it('gives gateways that create one shared keyring at the same moment the same master key', async () => {
    const file = path.join(dir, 'keyring.json');
    const go = path.join(dir, 'go');
    const readies = Array.from({ length: 6 }, (_, i) => path.join(dir, `ready-${i}`));
    const running = readies.map((ready, i) => wrapInAnotherProcess(file, `secret ${i}`, ready, go));
    // All loaded and spinning on the same file: they race for the keyring within a millisecond.
    while (!readies.every((r) => existsSync(r))) await new Promise((resolve) => setTimeout(resolve, 20));
    writeFileSync(go, '');
    const wrapped = await Promise.all(running);
    const keys = KeyService.open(file, { create: false });
    expect(keys.masterVersions()).toEqual(['1']);
    wrapped.forEach((w, i) => expect(keys.unwrapWithMaster(w.wrapped, PURPOSE, w.version).toString()).toBe(`secret ${i}`));
  }, 90_000);
});
