import { MetadataError } from '../shared/metadata.errors';
import { checkExpectedVersion } from './lifecycle-expectation';
import type { KeyVersion } from './object-key.decider';

const version = (versionId: string, hlc: string) => ({ versionId, hlc, region: 'r1', isDeleteMarker: false, etag: 'e', tags: [], vector: null }) as unknown as KeyVersion;
const current = version('v2', 'h2');
const older = version('v1', 'h1');

describe('lifecycle removals are conditional on the version as read', () => {
  it('passes without an expectation, or when the key is as read', () => {
    expect(() => checkExpectedVersion([current, older], 'k', current, undefined)).not.toThrow();
    expect(() => checkExpectedVersion([current, older], 'k', current, { hlc: 'h2', current: true })).not.toThrow();
    expect(() => checkExpectedVersion([current, older], 'k', older, { hlc: 'h1', current: false })).not.toThrow();
    expect(() => checkExpectedVersion([current], 'k', current, { hlc: 'h2', current: true, onlyVersion: true })).not.toThrow();
  });

  it.each<[string, KeyVersion[], KeyVersion | undefined, { hlc: string; current?: boolean; onlyVersion?: boolean }]>([
    ['the version is gone', [current], undefined, { hlc: 'h1' }],
    ['another write took the version id', [version('null', 'h9')], version('null', 'h9'), { hlc: 'h3', current: true }],
    ['the version is no longer current', [current, older], older, { hlc: 'h1', current: true }],
    ['the version became current again', [older], older, { hlc: 'h1', current: false }],
    ['the key holds other versions now', [current, older], current, { hlc: 'h2', current: true, onlyVersion: true }],
  ])('refuses with PreconditionFailed when %s', (_, versions, target, expectation) => {
    expect(() => checkExpectedVersion(versions, 'k', target, expectation)).toThrow(MetadataError);
    try {
      checkExpectedVersion(versions, 'k', target, expectation);
    } catch (error) {
      expect((error as MetadataError).code).toBe('PreconditionFailed');
    }
  });
});
