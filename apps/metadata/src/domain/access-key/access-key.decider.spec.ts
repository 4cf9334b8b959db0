import { deciderSpecification } from '@cairn/eventing';
import { canonicalIdOf, type AccessKeyCreated } from '@cairn/protocol';
import { hasCode, MetadataError } from '../shared/metadata.errors';
import { accessKeyDecider } from './access-key.decider';
import type { CreateAccessKey } from './access-key.commands';

const spec = deciderSpecification(accessKeyDecider);
const at = '2026-01-01T00:00:00.000Z';
const create: CreateAccessKey = {
  type: 'CreateAccessKey',
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  // What the shell sealed it to (AccessKeySecrets); the decider records only this.
  secret: { kind: 'sealed', keyId: '1', ciphertext: 'c2VhbGVkIGJ5IHRoZSBzaGVsbA==' },
  owner: 'alice',
  createdAt: at,
};
const created: AccessKeyCreated = {
  type: 'AccessKeyCreated',
  data: { accessKeyId: create.accessKeyId, secret: create.secret, owner: 'alice', canonicalId: canonicalIdOf('alice'), createdAt: at },
};
const revoke = { type: 'RevokeAccessKey', accessKeyId: create.accessKeyId, revokedAt: at } as const;
const revoked = { type: 'AccessKeyRevoked', data: { accessKeyId: create.accessKeyId, revokedAt: at } } as const;

describe('access key decider', () => {
  it('creates a key', () => spec.given([]).when(create).then([created]));

  it('records the secret as sealed, never its plaintext', () => {
    const events = accessKeyDecider.decide(create, accessKeyDecider.initialState());
    expect(JSON.stringify(events)).not.toContain(create.secretAccessKey);
  });

  it('refuses an id that exists, even revoked', () => {
    spec.given([created]).when(create).thenThrows(MetadataError, hasCode('ACCESS_KEY_ALREADY_EXISTS'));
    spec.given([created, revoked]).when(create).thenThrows(MetadataError, hasCode('ACCESS_KEY_ALREADY_EXISTS'));
  });

  it.each([
    ['a short id', { accessKeyId: 'AKIA' }],
    ['a lowercase id', { accessKeyId: 'akiaiosfodnn7example' }],
    ['a short secret', { secretAccessKey: 'short' }],
    ['a secret with spaces', { secretAccessKey: 'has some spaces in it' }],
    ['no owner', { owner: '' }],
  ])('refuses %s with InvalidArgument', (_, over) => spec.given([]).when({ ...create, ...over }).thenThrows(MetadataError, hasCode('InvalidArgument')));

  it.each(['Root', ' root', 'root ', 'root\u0000', 'ROOT', 'r00t', 'r.o.o.t', 'Alice', 'al ice', 'alice\n', 'a'.repeat(65)])(
    'refuses the owner %j (not the one canonical form, or a look-alike of root) with InvalidArgument',
    (owner) => spec.given([]).when({ ...create, owner }).thenThrows(MetadataError, hasCode('InvalidArgument')),
  );

  it('takes the bootstrapped root owner itself (the shell lets only the bootstrap name it)', () =>
    spec.given([]).when({ ...create, owner: 'root' }).then([{ ...created, data: { ...created.data, owner: 'root', canonicalId: canonicalIdOf('root') } }]));

  it('revokes a key, once', () => {
    spec.given([created]).when(revoke).then([revoked]);
    spec.given([created, revoked]).when(revoke).then([]);
  });

  describe('resealing a secret under another master version', () => {
    const resealedSecret = { kind: 'sealed', keyId: '2', ciphertext: 'cmVzZWFsZWQ=' } as const;
    const reseal = { type: 'ResealAccessKeySecret', accessKeyId: create.accessKeyId, secret: resealedSecret, resealedAt: at } as const;
    const resealed = { type: 'AccessKeySecretResealed', data: { accessKeyId: create.accessKeyId, secret: resealedSecret, resealedAt: at } } as const;

    it('records the new sealed secret once per version', () => {
      spec.given([created]).when(reseal).then([resealed]);
      spec.given([created, resealed]).when(reseal).then([]);
    });

    it('reseals a plaintext secret of an older event, and a revoked key\'s (its id stays taken)', () => {
      spec.given([{ ...created, data: { ...created.data, secret: { kind: 'plaintext', value: create.secretAccessKey } } }]).when(reseal).then([resealed]);
      spec.given([created, revoked]).when(reseal).then([resealed]);
    });

    it('refuses an unknown key and a plaintext "reseal"', () => {
      spec.given([]).when(reseal).thenThrows(MetadataError, hasCode('InvalidAccessKeyId'));
      spec.given([created]).when({ ...reseal, secret: { kind: 'plaintext', value: 'x' } }).thenThrows(MetadataError, hasCode('InvalidArgument'));
    });
  });

  it('answers InvalidAccessKeyId when revoking an unknown key', () => spec.given([]).when(revoke).thenThrows(MetadataError, hasCode('InvalidAccessKeyId')));
});
