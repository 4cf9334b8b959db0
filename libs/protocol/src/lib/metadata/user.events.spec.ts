import { currentEnvelope } from '../event-schemas';
import { canonicalIdOf } from './user.events';

describe('AccessKeyCreated: keys name their user by canonical id', () => {
  it('a version 1 key (owner only) is read with its owner\'s derived canonical id', () => {
    const v1 = { accessKeyId: 'CKAAAAAAAAAAAAAAAAAA', secretAccessKey: 'secret-secret', owner: 'alice', createdAt: '2026-01-01T00:00:00.000Z' };
    const read = currentEnvelope(
      { id: 'e1', type: 'AccessKeyCreated', schemaVersion: 1, aggregateId: v1.accessKeyId, region: 'eu-one', hlc: '0000000001-0000-eu-one', causationId: null, correlationId: null, occurredAt: v1.createdAt, data: v1 },
      'META #1',
    );
    expect(read.schemaVersion).toBe(3);
    const { secretAccessKey, ...rest } = v1;
    expect(read.data).toEqual({ ...rest, canonicalId: canonicalIdOf('alice'), secret: { kind: 'plaintext', value: secretAccessKey } });
  });
});
