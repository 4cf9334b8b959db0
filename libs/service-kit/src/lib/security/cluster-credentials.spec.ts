import { ClusterKeys } from '@cairn/protocol';
import { ClusterCredentials } from './cluster-credentials';

const keys = new ClusterKeys('the-cluster-secret-for-these-unit-tests-0000');
const NOW_MS = 1_800_000_000_000;
const payload = new TextEncoder().encode('{"bucket":"b"}');

describe('ClusterCredentials: NATS messages', () => {
  it('a v1 signer and a v2 signer accept each other (a rolling upgrade), each nonce once', () => {
    const upgraded = new ClusterCredentials(keys, 'metadata/metadata-1', 30_000, () => NOW_MS);
    const notYet = new ClusterCredentials(keys, 'access/access-1', 30_000, () => NOW_MS, 'v1');
    const fromOld = notYet.sign('rpc.metadata.putObject', payload);
    const fromNew = upgraded.sign('rpc.access.reply', payload);
    expect(fromOld.startsWith('v1 ')).toBe(true);
    expect(fromNew.startsWith('v2 ')).toBe(true);
    expect(upgraded.verify(fromOld, 'rpc.metadata.putObject', payload)).toMatchObject({ ok: true, caller: 'access/access-1', version: 'v1' });
    expect(notYet.verify(fromNew, 'rpc.access.reply', payload)).toMatchObject({ ok: true, caller: 'metadata/metadata-1', version: 'v2' });
    expect(upgraded.verify(fromOld, 'rpc.metadata.putObject', payload)).toMatchObject({ ok: false, reason: expect.stringContaining('replayed') });
    expect(notYet.verify(fromNew, 'rpc.access.reply', payload)).toMatchObject({ ok: false, reason: expect.stringContaining('replayed') });
  });
});
