import { lifecycleConditionOf, type LifecycleCondition, type LifecycleConfiguration, type LifecycleRule, type Tag } from '@cairn/protocol';

/**
 * What a bucket's lifecycle rules want done with one object version (or one open multipart upload)
 * at a given moment. Pure: the caller passes the version's facts and "now"; nothing here reads a
 * clock or does I/O, so the scheduler's pass, its dry run and the tests all decide alike.
 *
 * Time, as S3 counts it: an age-based action is due at the first midnight UTC at or after
 * `start + days` (start: the version's last-modified time, the moment it became noncurrent, or the
 * upload's initiation); a date-based one at the date (always a midnight UTC).
 *
 * When several rules apply, S3's precedence holds: a permanent deletion (a noncurrent version, an
 * expired delete marker) wins over expiring the current version, which wins over a transition;
 * between transitions the colder class wins.
 */

export const DAY_MS = 86_400_000;

/** Colder (cheaper to keep) later: a transition only ever moves a version down this list. */
const COLDNESS: readonly string[] = ['STANDARD', 'REDUCED', 'REDUCED_REDUNDANCY', 'STANDARD_IA', 'ONEZONE_IA', 'COLD', 'GLACIER_IR', 'GLACIER', 'DEEP_ARCHIVE'];

export interface LifecycleVersionFacts {
  readonly key: string;
  readonly versionId: string;
  readonly sizeBytes: number;
  readonly tags: readonly Tag[];
  /** Null for delete markers. */
  readonly storageClass: string | null;
  readonly lastModifiedMs: number;
  readonly isCurrent: boolean;
  readonly isDeleteMarker: boolean;
  /** When the version became noncurrent (its successor's last-modified time); null while current. */
  readonly noncurrentSinceMs: number | null;
  /** How many noncurrent versions of the key are newer than this one (0 for the current version). */
  readonly newerNoncurrentCount: number;
  /** How many versions (delete markers included) the key holds. */
  readonly versionCount: number;
}

export type LifecycleDecision =
  | { readonly action: 'none' }
  /** The current version expires: a delete marker in a versioned bucket, its removal otherwise. */
  | { readonly action: 'expire-current'; readonly ruleId: string }
  /** A noncurrent version (or noncurrent delete marker) is removed for good. */
  | { readonly action: 'delete-noncurrent'; readonly ruleId: string }
  /** A delete marker that is the key's only version is removed. */
  | { readonly action: 'remove-delete-marker'; readonly ruleId: string }
  | { readonly action: 'transition'; readonly ruleId: string; readonly storageClass: string };

export type LifecycleUploadDecision = { readonly action: 'none' } | { readonly action: 'abort'; readonly ruleId: string };

const NONE: LifecycleDecision = { action: 'none' };

/** The first midnight UTC at or after `startMs + days`. */
export function dueAtMs(startMs: number, days: number): number {
  return Math.ceil((startMs + days * DAY_MS) / DAY_MS) * DAY_MS;
}

/** A rule's name in reports: its ID, or its place in the configuration. */
export function ruleIdOf(rule: LifecycleRule, index: number): string {
  return rule.id ?? `rule-${index + 1}`;
}

function coldness(storageClass: string | null): number {
  const rank = COLDNESS.indexOf(storageClass ?? '');
  return rank < 0 ? 0 : rank;
}

function matches(condition: LifecycleCondition, v: Pick<LifecycleVersionFacts, 'key' | 'sizeBytes' | 'tags' | 'isDeleteMarker'>): boolean {
  if (!v.key.startsWith(condition.prefix)) return false;
  // A delete marker has neither tags nor a size: only a rule without those conditions reaches it.
  if (v.isDeleteMarker) return condition.tags.length === 0 && condition.objectSizeGreaterThan === undefined && condition.objectSizeLessThan === undefined;
  if (condition.objectSizeGreaterThan !== undefined && !(v.sizeBytes > condition.objectSizeGreaterThan)) return false;
  if (condition.objectSizeLessThan !== undefined && !(v.sizeBytes < condition.objectSizeLessThan)) return false;
  return condition.tags.every((t) => v.tags.some((own) => own.key === t.key && own.value === t.value));
}

function due(startMs: number, days: number | undefined, date: string | undefined, nowMs: number): boolean {
  if (days !== undefined) return nowMs >= dueAtMs(startMs, days);
  if (date !== undefined) return nowMs >= Date.parse(date);
  return false;
}

/** What the enabled rules want done with this version now (see the module's comment for precedence). */
export function decideVersion(config: LifecycleConfiguration, v: LifecycleVersionFacts, nowMs: number): LifecycleDecision {
  let deletion: LifecycleDecision | undefined;
  let expiry: LifecycleDecision | undefined;
  let transition: { ruleId: string; storageClass: string } | undefined;
  config.rules.forEach((rule, index) => {
    if (rule.status !== 'Enabled' || !matches(lifecycleConditionOf(rule), v)) return;
    const ruleId = ruleIdOf(rule, index);
    const pick = (storageClass: string) => {
      if (coldness(storageClass) <= coldness(v.storageClass)) return;
      if (transition === undefined || coldness(storageClass) > coldness(transition.storageClass)) transition = { ruleId, storageClass };
    };
    if (v.isCurrent) {
      if (v.isDeleteMarker) {
        // An expired delete marker: the key's only version. S3 removes it for ExpiredObjectDeleteMarker and for age-based expiration.
        const e = rule.expiration;
        if (v.versionCount === 1 && (e?.expiredObjectDeleteMarker === true || e?.days !== undefined)) deletion ??= { action: 'remove-delete-marker', ruleId };
        return;
      }
      const e = rule.expiration;
      if (e !== undefined && due(v.lastModifiedMs, e.days, e.date, nowMs)) expiry ??= { action: 'expire-current', ruleId };
      for (const t of rule.transitions) if (due(v.lastModifiedMs, t.days, t.date, nowMs)) pick(t.storageClass);
      return;
    }
    if (v.noncurrentSinceMs === null) return;
    const since = v.noncurrentSinceMs;
    const keeps = (newer: number | undefined) => newer !== undefined && v.newerNoncurrentCount < newer;
    const n = rule.noncurrentVersionExpiration;
    if (n !== undefined && nowMs >= dueAtMs(since, n.noncurrentDays) && !keeps(n.newerNoncurrentVersions)) deletion ??= { action: 'delete-noncurrent', ruleId };
    if (v.isDeleteMarker) return;
    for (const t of rule.noncurrentVersionTransitions) {
      if (nowMs >= dueAtMs(since, t.noncurrentDays) && !keeps(t.newerNoncurrentVersions)) pick(t.storageClass);
    }
  });
  if (deletion !== undefined) return deletion;
  if (expiry !== undefined) return expiry;
  if (transition !== undefined) return { action: 'transition', ...transition };
  return NONE;
}

/** Whether an open multipart upload of `key` started at `initiatedMs` is to be aborted now. */
export function decideUpload(config: LifecycleConfiguration, upload: { readonly key: string; readonly initiatedMs: number }, nowMs: number): LifecycleUploadDecision {
  for (const [index, rule] of config.rules.entries()) {
    const abort = rule.abortIncompleteMultipartUpload;
    if (rule.status !== 'Enabled' || abort === undefined) continue;
    if (!upload.key.startsWith(lifecycleConditionOf(rule).prefix)) continue;
    if (nowMs >= dueAtMs(upload.initiatedMs, abort.daysAfterInitiation)) return { action: 'abort', ruleId: ruleIdOf(rule, index) };
  }
  return { action: 'none' };
}

/** The facts of a key's versions, given newest first (as a version listing has them), tags and sizes as known. */
export interface ListedVersion {
  readonly key: string;
  readonly versionId: string;
  readonly sizeBytes: number;
  readonly tags: readonly Tag[];
  readonly storageClass: string | null;
  readonly lastModifiedMs: number;
  readonly isCurrent: boolean;
  readonly isDeleteMarker: boolean;
}

/**
 * A key's versions (newest first) with what only their order tells: when each became noncurrent
 * (the last-modified time of the version that followed it) and how many noncurrent versions are
 * newer than it.
 */
export function versionFactsOf(newestFirst: readonly ListedVersion[]): LifecycleVersionFacts[] {
  let newerNoncurrent = 0;
  return newestFirst.map((v, i) => {
    const successor = i > 0 ? newestFirst[i - 1] : undefined;
    const facts: LifecycleVersionFacts = {
      ...v,
      noncurrentSinceMs: v.isCurrent ? null : (successor?.lastModifiedMs ?? v.lastModifiedMs),
      newerNoncurrentCount: v.isCurrent ? 0 : newerNoncurrent,
      versionCount: newestFirst.length,
    };
    if (!v.isCurrent) newerNoncurrent++;
    return facts;
  });
}

/** Whether any enabled rule needs an object's tags (so the pass must read them). */
export function needsTags(config: LifecycleConfiguration): boolean {
  return config.rules.some((r) => r.status === 'Enabled' && lifecycleConditionOf(r).tags.length > 0);
}

/** Whether any enabled rule aborts incomplete multipart uploads. */
export function abortsUploads(config: LifecycleConfiguration): boolean {
  return config.rules.some((r) => r.status === 'Enabled' && r.abortIncompleteMultipartUpload !== undefined);
}
