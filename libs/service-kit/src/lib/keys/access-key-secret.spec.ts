import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openAccessKeySecret, sealAccessKeySecret } from './access-key-secret';
import { KeyService } from './key-service';

const SECRET = 'wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY';

describe('access-key secrets sealed under the master key', () => {
  let dir: string;
  let keys: KeyService;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'cairn-secret-'));
    keys = KeyService.open(path.join(dir, 'keyring.json'), { create: true });
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('seals under the current master version, records it, and opens again', () => {
    const sealed = sealAccessKeySecret(keys, 'CKAAAAAAAAAAAAAAAAAA', SECRET);
    expect(sealed).toMatchObject({ kind: 'sealed', keyId: '1' });
    if (sealed.kind !== 'sealed') throw new Error('not sealed');
    expect(sealed.ciphertext).not.toContain(SECRET);
    expect(Buffer.from(sealed.ciphertext, 'base64').toString('latin1')).not.toContain(SECRET);
    expect(openAccessKeySecret(keys, 'CKAAAAAAAAAAAAAAAAAA', sealed)).toBe(SECRET);
  });

  it('gives a fresh ciphertext every time (random IV)', () => {
    const a = sealAccessKeySecret(keys, 'CKAAAAAAAAAAAAAAAAAA', SECRET);
    const b = sealAccessKeySecret(keys, 'CKAAAAAAAAAAAAAAAAAA', SECRET);
    expect(a).not.toEqual(b);
  });

  it('keeps opening secrets sealed before a rotation; seals new ones under the new version', () => {
    const before = sealAccessKeySecret(keys, 'CKAAAAAAAAAAAAAAAAAA', SECRET);
    expect(keys.rotateMaster()).toBe('2');
    const after = sealAccessKeySecret(keys, 'CKBBBBBBBBBBBBBBBBBB', 'another-secret-value');
    expect(after).toMatchObject({ keyId: '2' });
    expect(openAccessKeySecret(keys, 'CKAAAAAAAAAAAAAAAAAA', before)).toBe(SECRET);
    expect(openAccessKeySecret(keys, 'CKBBBBBBBBBBBBBBBBBB', after)).toBe('another-secret-value');
  });

  it.each([
    ['another access key id (a sealed secret moved to another row)', (s: ReturnType<typeof sealAccessKeySecret>) => ({ id: 'CKBBBBBBBBBBBBBBBBBB', secret: s })],
    ['a changed ciphertext', (s: ReturnType<typeof sealAccessKeySecret>) => ({ id: 'CKAAAAAAAAAAAAAAAAAA', secret: s.kind === 'sealed' ? { ...s, ciphertext: flipLastByte(s.ciphertext) } : s })],
  ])('refuses to open under %s', (_, tamper) => {
    const { id, secret } = tamper(sealAccessKeySecret(keys, 'CKAAAAAAAAAAAAAAAAAA', SECRET));
    expect(() => openAccessKeySecret(keys, id, secret)).toThrow();
  });

  it('opens a plaintext secret (events from before sealing) as it is; a sealed one needs a keyring', () => {
    expect(openAccessKeySecret(undefined, 'CKAAAAAAAAAAAAAAAAAA', { kind: 'plaintext', value: SECRET })).toBe(SECRET);
    expect(() => openAccessKeySecret(undefined, 'CKAAAAAAAAAAAAAAAAAA', sealAccessKeySecret(keys, 'CKAAAAAAAAAAAAAAAAAA', SECRET))).toThrow(/no master key/);
  });
});

function flipLastByte(base64: string): string {
  const bytes = Buffer.from(base64, 'base64');
  bytes[bytes.length - 1] ^= 0x01;
  return bytes.toString('base64');
}
