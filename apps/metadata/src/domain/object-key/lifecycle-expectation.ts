import { MetadataErrorCodes, type ExpectedVersion } from '@cairn/protocol';
import { MetadataError } from '../shared/metadata.errors';
import type { KeyVersion } from './object-key.decider';

/**
 * A removal that lifecycle decided on a version it read earlier (ExpectedVersion): it goes ahead
 * only if the key still is as it was read — the same version (by its HLC, which no rewrite of the
 * same version id shares), still current or still noncurrent, still the key's only version when
 * that was the reason. Otherwise PreconditionFailed, and nothing changes: a write that came in
 * since is never expired on the strength of an older look, and a retried removal never removes
 * twice.
 */
export function checkExpectedVersion(versions: readonly KeyVersion[], key: string, target: KeyVersion | undefined, expect: ExpectedVersion | undefined): void {
  if (expect === undefined) return;
  const fail = (why: string) => new MetadataError(MetadataErrorCodes.PreconditionFailed, `${key}: ${why}`, { condition: 'lifecycle' });
  if (target === undefined || target.hlc !== expect.hlc) throw fail('the version is not the one lifecycle evaluated');
  const isCurrent = versions[0] === target;
  if (expect.current !== undefined && expect.current !== isCurrent) throw fail(expect.current ? 'the version is no longer current' : 'the version is current again');
  if (expect.onlyVersion === true && versions.length !== 1) throw fail('the key holds other versions now');
}
