import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { KeyService, sealAccessKeySecret } from '@cairn/service-kit';
import { SigV4Verifier } from '../s3/auth/sigv4-verifier';
import { signWithSdk } from '../s3/auth/sigv4-test-signer';
import { CairnError, canonicalIdOf, ErrorCodes, MetadataErrorCodes, type GetAccessKeyReply } from '@cairn/protocol';
import { ACCESS_KEY_NEGATIVE_CACHE_TTL_MS, AccessKeyRpcLookup } from './access-key-rpc.lookup';

const ACCESS_KEY_CACHE_TTL_MS = 5_000;

const KEY: GetAccessKeyReply = { accessKeyId: 'AKIAALICE', secret: { kind: 'plaintext', value: 's3cr3t' }, owner: 'alice', canonicalId: canonicalIdOf('alice'), displayName: 'alice', isRoot: false, createdAt: '2026-01-01T00:00:00Z', revokedAt: null };

describe('AccessKeyRpcLookup', () => {
  let nowMs: number;
  let calls: string[];
  let floors: number[];
  let answer: (id: string) => Promise<GetAccessKeyReply>;
  let lookup: AccessKeyRpcLookup;

  beforeEach(() => {
    nowMs = 1_000_000;
    calls = [];
    floors = [];
    answer = async () => KEY;
    lookup = new AccessKeyRpcLookup(
      (id, minSequence) => {
        calls.push(id);
        floors.push(minSequence);
        return answer(id);
      },
      ACCESS_KEY_CACHE_TTL_MS,
      () => nowMs,
    );
  });

  it('caches a found key for its TTL, then asks again', async () => {
    expect(await lookup.find('AKIAALICE')).toEqual({ accessKeyId: 'AKIAALICE', secretAccessKey: 's3cr3t', owner: 'alice', isRoot: false });
    nowMs += ACCESS_KEY_CACHE_TTL_MS - 1;
    await lookup.find('AKIAALICE');
    expect(calls).toHaveLength(1);
    nowMs += 1;
    await lookup.find('AKIAALICE');
    expect(calls).toHaveLength(2);
  });

  it('remembers an unknown key for the shorter negative TTL', async () => {
    answer = async () => {
      throw new CairnError(MetadataErrorCodes.InvalidAccessKeyId, 'no such key');
    };
    expect(await lookup.find('AKIANOPE')).toBeUndefined();
    expect(await lookup.find('AKIANOPE')).toBeUndefined();
    expect(calls).toHaveLength(1);
    nowMs += ACCESS_KEY_NEGATIVE_CACHE_TTL_MS;
    await lookup.find('AKIANOPE');
    expect(calls).toHaveLength(2);
  });

  it('treats a revoked key as unknown', async () => {
    answer = async () => ({ ...KEY, revokedAt: '2026-02-01T00:00:00Z' });
    expect(await lookup.find('AKIAALICE')).toBeUndefined();
  });

  it('does not cache a metadata outage as "no such key"', async () => {
    answer = async () => {
      throw new CairnError(ErrorCodes.Timeout, 'metadata did not answer');
    };
    await expect(lookup.find('AKIAALICE')).rejects.toMatchObject({ code: 'TIMEOUT' });
    answer = async () => KEY;
    expect(await lookup.find('AKIAALICE')).toMatchObject({ owner: 'alice' });
  });

  it('asks once for concurrent lookups of one key', async () => {
    await Promise.all([lookup.find('AKIAALICE'), lookup.find('AKIAALICE'), lookup.find('AKIAALICE')]);
    expect(calls).toHaveLength(1);
  });

  it('asks again at once after hearing that the key changed', async () => {
    await lookup.find('AKIAALICE');
    answer = async () => ({ ...KEY, revokedAt: '2026-02-01T00:00:00Z' });
    lookup.changed('AKIAALICE', 42);
    expect(await lookup.find('AKIAALICE')).toBeUndefined();
    // The second read waits for the projection to have applied the change.
    expect(floors).toEqual([0, 42]);
  });

  it('does not keep an answer that was in flight when the key changed', async () => {
    let release: () => void = () => undefined;
    answer = () => new Promise((resolve) => (release = () => resolve(KEY)));
    const early = lookup.find('AKIAALICE');
    lookup.changed('AKIAALICE', 42);
    release();
    expect(await early).toMatchObject({ owner: 'alice' });
    answer = async () => ({ ...KEY, revokedAt: '2026-02-01T00:00:00Z' });
    expect(await lookup.find('AKIAALICE')).toBeUndefined();
  });
});

describe('AccessKeyRpcLookup with sealed secrets', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'cairn-lookup-keyring-'));
  const keys = KeyService.open(path.join(dir, 'keyring.json'), { create: true });
  const SECRET = 'sealed/secret+value=for~sigv4';
  const SIGNED_AT = new Date('2026-03-14T15:09:26Z');
  const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
  const sealedKey: GetAccessKeyReply = { ...KEY, secret: sealAccessKeySecret(keys, 'AKIAALICE', SECRET) };

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('opens the secret metadata sealed, in memory, and SigV4 requests signed with it verify', async () => {
    const lookup = new AccessKeyRpcLookup(async () => sealedKey, 5_000, () => 0, keys);
    expect(await lookup.find('AKIAALICE')).toMatchObject({ secretAccessKey: SECRET });
    const verifier = new SigV4Verifier(lookup);
    const request = await signWithSdk({ accessKeyId: 'AKIAALICE', secretAccessKey: SECRET }, { method: 'GET', bucket: 'photos', key: 'a.txt', headers: { 'x-amz-content-sha256': EMPTY_SHA256 } }, SIGNED_AT);
    expect(await verifier.verify(request, SIGNED_AT.getTime() + 1_000)).toMatchObject({ accessKeyId: 'AKIAALICE', owner: 'alice' });
  });

  it('fails loudly (not as a bad signature) when a sealed secret meets a gateway without the keyring', async () => {
    const lookup = new AccessKeyRpcLookup(async () => sealedKey, 5_000, () => 0);
    await expect(lookup.find('AKIAALICE')).rejects.toThrow(/no master key/);
  });
});
