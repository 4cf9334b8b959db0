import { UpcasterRegistry } from './upcasting';
import { subjectsFor, bucketOfToken, bucketToken } from './subjects';
import type { EventEnvelope } from './envelope';

const base: EventEnvelope = {
  id: 'e1', type: 'ObjectVersionPut', schemaVersion: 1, aggregateId: 'a', region: 'r', hlc: '0',
  causationId: null, correlationId: null, occurredAt: '1970-01-01T00:00:00.000Z', data: { size: 1 },
};

describe('UpcasterRegistry', () => {
  const registry = new UpcasterRegistry({ ObjectVersionPut: 3 }, [
    { type: 'ObjectVersionPut', fromVersion: 1, upcast: (d) => ({ ...(d as object), storageClass: 'STANDARD' }) },
    { type: 'ObjectVersionPut', fromVersion: 2, upcast: (d) => ({ ...(d as object), tags: {} }) },
  ]);

  it('lifts an old event step by step to the current version without touching the original', () => {
    const up = registry.upcast(base);
    expect(up.schemaVersion).toBe(3);
    expect(up.data).toEqual({ size: 1, storageClass: 'STANDARD', tags: {} });
    expect(base.data).toEqual({ size: 1 });
  });

  it('refuses events newer than the reader', () => {
    expect(() => registry.upcast({ ...base, schemaVersion: 4 })).toThrow(/newer/);
  });

  it('hands back an event at its current version as it is, and takes an undeclared type to be at version 1', () => {
    const current = { ...base, schemaVersion: 3 };
    expect(registry.upcast(current)).toBe(current);
    const other = { ...base, type: 'SomethingElse' };
    expect(registry.upcast(other)).toBe(other);
  });

  it('refuses, when built, a chain it could not serve', () => {
    expect(() => new UpcasterRegistry({ X: 2 })).toThrow(/no upcaster for X from version 1/);
    const step = { type: 'X', fromVersion: 1, upcast: (d: unknown) => d };
    expect(() => new UpcasterRegistry({ X: 2 }, [step, step])).toThrow(/two upcasters/);
    expect(() => new UpcasterRegistry({ X: 1 }, [step])).toThrow(/does not lead/);
    expect(() => new UpcasterRegistry({ X: 0 })).toThrow(/positive integer/);
  });
});

describe('subjectsFor', () => {
  it('prefixes everything with the namespace and nothing without one', () => {
    expect(subjectsFor('').bucket('my.photos')).toBe('meta.bucket.my_photos');
    expect(subjectsFor('t1').bucket('my.photos')).toBe('t1.meta.bucket.my_photos');
    expect(subjectsFor('t1').streamName('META')).toBe('t1_META');
    expect(subjectsFor('').heartbeat('eu', 'storage', 'storage-1')).toBe('hb.eu.storage.storage-1');
    expect(bucketToken('a.b.c')).toBe('a_b_c');
    expect(bucketOfToken(bucketToken('my.photos-2'))).toBe('my.photos-2');
    expect(subjectsFor('t1').bucketWildcard()).toBe('t1.meta.bucket.>');
  });

  it('rejects a namespace that could escape its subjects', () => {
    expect(() => subjectsFor('a.b')).toThrow(/namespace/);
    expect(() => subjectsFor('a>')).toThrow(/namespace/);
  });
});
