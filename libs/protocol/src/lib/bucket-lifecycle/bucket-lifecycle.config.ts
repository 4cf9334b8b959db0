/**
 * A bucket's lifecycle configuration as S3 takes it (PutBucketLifecycleConfiguration): up to 1000
 * rules, each with an optional ID, a Status, what it applies to (the legacy top-level Prefix, or a
 * Filter holding one of Prefix, Tag, ObjectSizeGreaterThan, ObjectSizeLessThan or an And of them)
 * and at least one action (Expiration, Transition, NoncurrentVersionExpiration,
 * NoncurrentVersionTransition, AbortIncompleteMultipartUpload). The gateway parses the XML into
 * these shapes; this module validates them with S3's codes and messages, and metadata validates
 * again before storing, so a bad configuration is never stored. Pure: no clock, no I/O.
 */

import { DEFAULT_STORAGE_CLASS, StorageClasses } from '../metadata/common';

export const LIFECYCLE_MAX_RULES = 1000;
/** The classes a transition may name: every storage class the cluster has but the default one. */
export const LIFECYCLE_TRANSITION_TARGETS: ReadonlySet<string> = new Set(StorageClasses.filter((c) => c !== DEFAULT_STORAGE_CLASS));
export const LIFECYCLE_RULE_ID_MAX_CHARS = 255;
/** S3's limit on NewerNoncurrentVersions. */
export const LIFECYCLE_NEWER_NONCURRENT_VERSIONS_MAX = 100;
/** The largest configuration body the gateway reads. */
export const LIFECYCLE_CONFIGURATION_MAX_BYTES = 2 * 1024 * 1024;
/** Transitions to these S3 classes need at least this many days (S3's rule for the infrequent-access classes). */
export const LIFECYCLE_IA_MIN_TRANSITION_DAYS = 30;
const IA_CLASSES: ReadonlySet<string> = new Set(['STANDARD_IA', 'ONEZONE_IA']);
const MIDNIGHT_UTC_PATTERN = /^(\d{4})-(\d{2})-(\d{2})(?:T00:00:00(?:\.0{1,9})?(?:Z|[+-]00:?00)?)?$/;
const ISO_DATE_PATTERN = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:?\d{2})?)?$/;
/** Printable text only: no control characters. */
const isPrintable = (text: string) => [...text].every((c) => c.charCodeAt(0) > 0x1f && c.charCodeAt(0) !== 0x7f);

export interface LifecycleTag {
  readonly key: string;
  readonly value: string;
}

/** The conditions of a Filter's And: all must hold. */
export interface LifecycleAnd {
  readonly prefix?: string;
  readonly tags: readonly LifecycleTag[];
  readonly objectSizeGreaterThan?: number;
  readonly objectSizeLessThan?: number;
}

/** A rule's Filter: empty (every object) or exactly one of its members. */
export interface LifecycleFilter {
  readonly prefix?: string;
  readonly tag?: LifecycleTag;
  readonly objectSizeGreaterThan?: number;
  readonly objectSizeLessThan?: number;
  readonly and?: LifecycleAnd;
}

export interface LifecycleExpiration {
  readonly days?: number;
  /** ISO 8601 at midnight UTC, stored as `YYYY-MM-DDT00:00:00.000Z`. */
  readonly date?: string;
  readonly expiredObjectDeleteMarker?: boolean;
}

export interface LifecycleTransition {
  readonly days?: number;
  readonly date?: string;
  readonly storageClass: string;
}

export interface LifecycleNoncurrentExpiration {
  readonly noncurrentDays: number;
  readonly newerNoncurrentVersions?: number;
}

export interface LifecycleNoncurrentTransition {
  readonly noncurrentDays: number;
  readonly newerNoncurrentVersions?: number;
  readonly storageClass: string;
}

export interface LifecycleRule {
  readonly id?: string;
  readonly status: 'Enabled' | 'Disabled';
  /** The legacy top-level Prefix (not with filter). */
  readonly prefix?: string;
  readonly filter?: LifecycleFilter;
  readonly expiration?: LifecycleExpiration;
  readonly transitions: readonly LifecycleTransition[];
  readonly noncurrentVersionExpiration?: LifecycleNoncurrentExpiration;
  readonly noncurrentVersionTransitions: readonly LifecycleNoncurrentTransition[];
  readonly abortIncompleteMultipartUpload?: { readonly daysAfterInitiation: number };
}

export interface LifecycleConfiguration {
  readonly rules: readonly LifecycleRule[];
}

/** What a rule's filter (or legacy prefix) comes down to: every condition must hold. */
export interface LifecycleCondition {
  readonly prefix: string;
  readonly tags: readonly LifecycleTag[];
  readonly objectSizeGreaterThan?: number;
  readonly objectSizeLessThan?: number;
}

export type BucketLifecycleErrorCode = 'MalformedXML' | 'InvalidArgument' | 'InvalidRequest';

export const LIFECYCLE_MALFORMED_XML_MESSAGE = 'The XML you provided was not well-formed or did not validate against our published schema';

export class BucketLifecycleError extends Error {
  constructor(
    readonly code: BucketLifecycleErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'BucketLifecycleError';
  }
}

const malformed = () => new BucketLifecycleError('MalformedXML', LIFECYCLE_MALFORMED_XML_MESSAGE);
const invalidArgument = (message: string) => new BucketLifecycleError('InvalidArgument', message);
const invalidRequest = (message: string) => new BucketLifecycleError('InvalidRequest', message);

type Fields = Readonly<Record<string, unknown>>;

function record(input: unknown): Fields {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw malformed();
  return input as Fields;
}

function optionalText(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !isPrintable(value)) throw malformed();
  return value;
}

function integer(value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw malformed();
  return value;
}

function positive(value: unknown, message: string): number {
  const n = integer(value);
  if (n <= 0) throw invalidArgument(message);
  return n;
}

function sizeBound(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const n = integer(value);
  if (n < 0) throw invalidArgument('ObjectSize filter values must be non-negative');
  return n;
}

function tag(input: unknown): LifecycleTag {
  const t = record(input);
  const key = optionalText(t['key']);
  const value = optionalText(t['value']) ?? '';
  if (key === undefined || key.length === 0) throw malformed();
  if ([...key].length > 128 || [...value].length > 256) throw invalidRequest('The TagKey you have provided is too long, max 128 characters, or the TagValue is longer than 256');
  return { key, value };
}

/** S3 takes dates at midnight UTC only; stored in one canonical form. */
function midnightDate(value: unknown): string {
  if (typeof value !== 'string' || !ISO_DATE_PATTERN.test(value)) throw malformed();
  const midnight = MIDNIGHT_UTC_PATTERN.exec(value);
  if (midnight === null) throw invalidArgument("'Date' must be at midnight GMT");
  const iso = `${midnight[1]}-${midnight[2]}-${midnight[3]}T00:00:00.000Z`;
  const parsed = new Date(iso);
  if (Number.isNaN(parsed.getTime()) || parsed.toISOString() !== iso) throw malformed();
  return iso;
}

function storageClass(value: unknown, transitionTargets: ReadonlySet<string>): string {
  if (typeof value !== 'string' || value.length === 0) throw malformed();
  if (!transitionTargets.has(value)) throw invalidRequest(`'StorageClass' ${value} is not a storage class a lifecycle rule can transition to`);
  return value;
}

function sizeRange(gt: number | undefined, lt: number | undefined): void {
  if (gt !== undefined && lt !== undefined && gt >= lt) throw invalidArgument('ObjectSizeGreaterThan must be less than ObjectSizeLessThan');
}

function uniqueTagKeys(tags: readonly LifecycleTag[]): void {
  const keys = new Set<string>();
  for (const t of tags) {
    if (keys.has(t.key)) throw invalidRequest('Duplicate Tag Keys are not allowed.');
    keys.add(t.key);
  }
}

function validateFilter(input: unknown): LifecycleFilter {
  const f = record(input);
  const members = ['prefix', 'tag', 'objectSizeGreaterThan', 'objectSizeLessThan', 'and'].filter((name) => f[name] !== undefined);
  if (members.length > 1) throw malformed();
  if (f['prefix'] !== undefined) return { prefix: optionalText(f['prefix']) as string };
  if (f['tag'] !== undefined) return { tag: tag(f['tag']) };
  if (f['objectSizeGreaterThan'] !== undefined) return { objectSizeGreaterThan: sizeBound(f['objectSizeGreaterThan']) as number };
  if (f['objectSizeLessThan'] !== undefined) {
    const lt = sizeBound(f['objectSizeLessThan']) as number;
    if (lt === 0) throw invalidArgument('ObjectSizeLessThan must be greater than 0');
    return { objectSizeLessThan: lt };
  }
  if (f['and'] !== undefined) {
    const a = record(f['and']);
    const rawTags = a['tags'] ?? [];
    if (!Array.isArray(rawTags)) throw malformed();
    const tags = rawTags.map(tag);
    uniqueTagKeys(tags);
    const prefix = optionalText(a['prefix']);
    const gt = sizeBound(a['objectSizeGreaterThan']);
    const lt = sizeBound(a['objectSizeLessThan']);
    // An And combines predicates: S3 wants at least two of them (a prefix and a tag, two tags, …).
    const count = (prefix !== undefined ? 1 : 0) + tags.length + (gt !== undefined ? 1 : 0) + (lt !== undefined ? 1 : 0);
    if (count < 2) throw malformed();
    sizeRange(gt, lt);
    return {
      and: {
        ...(prefix !== undefined ? { prefix } : {}),
        tags,
        ...(gt !== undefined ? { objectSizeGreaterThan: gt } : {}),
        ...(lt !== undefined ? { objectSizeLessThan: lt } : {}),
      },
    };
  }
  return {};
}

/** The conditions a rule puts on the objects it applies to. */
export function lifecycleConditionOf(rule: Pick<LifecycleRule, 'prefix' | 'filter'>): LifecycleCondition {
  if (rule.filter === undefined) return { prefix: rule.prefix ?? '', tags: [] };
  const f = rule.filter;
  if (f.and !== undefined) {
    return {
      prefix: f.and.prefix ?? '',
      tags: f.and.tags,
      ...(f.and.objectSizeGreaterThan !== undefined ? { objectSizeGreaterThan: f.and.objectSizeGreaterThan } : {}),
      ...(f.and.objectSizeLessThan !== undefined ? { objectSizeLessThan: f.and.objectSizeLessThan } : {}),
    };
  }
  return {
    prefix: f.prefix ?? '',
    tags: f.tag !== undefined ? [f.tag] : [],
    ...(f.objectSizeGreaterThan !== undefined ? { objectSizeGreaterThan: f.objectSizeGreaterThan } : {}),
    ...(f.objectSizeLessThan !== undefined ? { objectSizeLessThan: f.objectSizeLessThan } : {}),
  };
}

function validateExpiration(input: unknown): LifecycleExpiration {
  const e = record(input);
  const days = e['days'];
  const date = e['date'];
  const marker = e['expiredObjectDeleteMarker'];
  if (marker !== undefined && typeof marker !== 'boolean') throw malformed();
  if (days === undefined && date === undefined && marker === undefined) throw malformed();
  if (days !== undefined && date !== undefined) throw malformed();
  if (marker !== undefined && (days !== undefined || date !== undefined)) {
    throw invalidRequest('ExpiredObjectDeleteMarker cannot be specified with Days or Date in a Lifecycle Expiration Policy.');
  }
  if (days !== undefined) return { days: positive(days, "'Days' for Expiration action must be a positive integer") };
  if (date !== undefined) return { date: midnightDate(date) };
  return { expiredObjectDeleteMarker: marker as boolean };
}

function validateTransition(input: unknown, targets: ReadonlySet<string>): LifecycleTransition {
  const t = record(input);
  const days = t['days'];
  const date = t['date'];
  if ((days === undefined) === (date === undefined)) throw malformed();
  const target = storageClass(t['storageClass'], targets);
  if (days !== undefined) {
    const n = integer(days);
    if (n < 0) throw invalidArgument("'Days' in Transition action must be nonnegative");
    if (IA_CLASSES.has(target) && n < LIFECYCLE_IA_MIN_TRANSITION_DAYS) {
      throw invalidArgument(`'Days' in Transition action must be greater than or equal to ${LIFECYCLE_IA_MIN_TRANSITION_DAYS} for storageClass '${target}'`);
    }
    return { days: n, storageClass: target };
  }
  return { date: midnightDate(date), storageClass: target };
}

function newerNoncurrent(value: unknown, action: string): number | undefined {
  if (value === undefined) return undefined;
  const n = integer(value);
  if (n < 1 || n > LIFECYCLE_NEWER_NONCURRENT_VERSIONS_MAX) {
    throw invalidArgument(`'NewerNoncurrentVersions' for ${action} action must be a positive integer up to ${LIFECYCLE_NEWER_NONCURRENT_VERSIONS_MAX}`);
  }
  return n;
}

function validateNoncurrentExpiration(input: unknown): LifecycleNoncurrentExpiration {
  const e = record(input);
  if (e['noncurrentDays'] === undefined) throw malformed();
  const noncurrentDays = positive(e['noncurrentDays'], "'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer");
  const newer = newerNoncurrent(e['newerNoncurrentVersions'], 'NoncurrentVersionExpiration');
  return { noncurrentDays, ...(newer !== undefined ? { newerNoncurrentVersions: newer } : {}) };
}

function validateNoncurrentTransition(input: unknown, targets: ReadonlySet<string>): LifecycleNoncurrentTransition {
  const t = record(input);
  if (t['noncurrentDays'] === undefined) throw malformed();
  const noncurrentDays = integer(t['noncurrentDays']);
  if (noncurrentDays < 0) throw invalidArgument("'NoncurrentDays' in NoncurrentVersionTransition action must be nonnegative");
  const target = storageClass(t['storageClass'], targets);
  if (IA_CLASSES.has(target) && noncurrentDays < LIFECYCLE_IA_MIN_TRANSITION_DAYS) {
    throw invalidArgument(`'NoncurrentDays' in NoncurrentVersionTransition action must be greater than or equal to ${LIFECYCLE_IA_MIN_TRANSITION_DAYS} for storageClass '${target}'`);
  }
  const newer = newerNoncurrent(t['newerNoncurrentVersions'], 'NoncurrentVersionTransition');
  return { noncurrentDays, storageClass: target, ...(newer !== undefined ? { newerNoncurrentVersions: newer } : {}) };
}

function list(value: unknown): readonly unknown[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw malformed();
  return value;
}

function validateRule(input: unknown, targets: ReadonlySet<string>): LifecycleRule {
  const r = record(input);
  const id = optionalText(r['id']);
  if (id !== undefined && [...id].length > LIFECYCLE_RULE_ID_MAX_CHARS) throw invalidArgument('ID length should not exceed allowed limit of 255');
  const status = r['status'];
  if (status !== 'Enabled' && status !== 'Disabled') throw malformed();
  // Exactly one of the legacy Prefix and Filter says what the rule applies to.
  if ((r['prefix'] === undefined) === (r['filter'] === undefined)) throw malformed();
  const prefix = optionalText(r['prefix']);
  const filter = r['filter'] !== undefined ? validateFilter(r['filter']) : undefined;
  const expiration = r['expiration'] !== undefined ? validateExpiration(r['expiration']) : undefined;
  const transitions = list(r['transitions']).map((t) => validateTransition(t, targets));
  const noncurrentVersionExpiration = r['noncurrentVersionExpiration'] !== undefined ? validateNoncurrentExpiration(r['noncurrentVersionExpiration']) : undefined;
  const noncurrentVersionTransitions = list(r['noncurrentVersionTransitions']).map((t) => validateNoncurrentTransition(t, targets));
  let abort: { daysAfterInitiation: number } | undefined;
  if (r['abortIncompleteMultipartUpload'] !== undefined) {
    const a = record(r['abortIncompleteMultipartUpload']);
    if (a['daysAfterInitiation'] === undefined) throw malformed();
    abort = { daysAfterInitiation: positive(a['daysAfterInitiation'], "'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive integer") };
  }
  if (expiration === undefined && transitions.length === 0 && noncurrentVersionExpiration === undefined && noncurrentVersionTransitions.length === 0 && abort === undefined) {
    throw invalidRequest('At least one action needs to be specified in a rule');
  }
  const condition = lifecycleConditionOf({ ...(prefix !== undefined ? { prefix } : {}), ...(filter !== undefined ? { filter } : {}) });
  const sized = condition.objectSizeGreaterThan !== undefined || condition.objectSizeLessThan !== undefined;
  if (condition.tags.length > 0 && expiration?.expiredObjectDeleteMarker !== undefined) {
    throw invalidRequest('Delete marker expiration cannot be specified with Tag based filter.');
  }
  if (abort !== undefined && condition.tags.length > 0) throw invalidRequest('AbortIncompleteMultipartUpload cannot be specified with Tags.');
  if (abort !== undefined && sized) throw invalidRequest('AbortIncompleteMultipartUpload cannot be specified with an object size filter.');
  checkTransitions(transitions, expiration);
  checkNoncurrentTransitions(noncurrentVersionTransitions, noncurrentVersionExpiration);
  return {
    ...(id !== undefined ? { id } : {}),
    status,
    ...(prefix !== undefined ? { prefix } : {}),
    ...(filter !== undefined ? { filter } : {}),
    ...(expiration !== undefined ? { expiration } : {}),
    transitions,
    ...(noncurrentVersionExpiration !== undefined ? { noncurrentVersionExpiration } : {}),
    noncurrentVersionTransitions,
    ...(abort !== undefined ? { abortIncompleteMultipartUpload: abort } : {}),
  };
}

function checkTransitions(transitions: readonly LifecycleTransition[], expiration: LifecycleExpiration | undefined): void {
  const classes = new Set<string>();
  for (const t of transitions) {
    if (classes.has(t.storageClass)) throw invalidRequest("'StorageClass' must be different for 'Transition' actions in same 'Rule'");
    classes.add(t.storageClass);
  }
  const usesDays = transitions.some((t) => t.days !== undefined) || expiration?.days !== undefined;
  const usesDates = transitions.some((t) => t.date !== undefined) || expiration?.date !== undefined;
  if (usesDays && usesDates) throw invalidRequest("Found mixed 'Date' and 'Days' based Expiration and Transition actions in lifecycle rule");
  for (const t of transitions) {
    if (expiration?.days !== undefined && t.days !== undefined && expiration.days <= t.days) {
      throw invalidArgument(`'Days' in the Expiration action must be greater than 'Days' in the Transition action`);
    }
    if (expiration?.date !== undefined && t.date !== undefined && expiration.date <= t.date) {
      throw invalidArgument(`'Date' in the Expiration action must be later than 'Date' in the Transition action`);
    }
  }
}

function checkNoncurrentTransitions(transitions: readonly LifecycleNoncurrentTransition[], expiration: LifecycleNoncurrentExpiration | undefined): void {
  const classes = new Set<string>();
  for (const t of transitions) {
    if (classes.has(t.storageClass)) throw invalidRequest("'StorageClass' must be different for 'NoncurrentVersionTransition' actions in same 'Rule'");
    classes.add(t.storageClass);
    if (expiration !== undefined && expiration.noncurrentDays <= t.noncurrentDays) {
      throw invalidArgument(`'NoncurrentDays' in the NoncurrentVersionExpiration action must be greater than 'NoncurrentDays' in the NoncurrentVersionTransition action`);
    }
  }
}

/**
 * Checks a configuration (as parsed from XML, or as stored) and returns it typed; throws
 * BucketLifecycleError with S3's code and message otherwise. `transitionTargets` are the storage
 * classes a transition may name (the cluster's classes but the default one).
 */
export function validateLifecycleConfiguration(input: unknown, transitionTargets: ReadonlySet<string> = LIFECYCLE_TRANSITION_TARGETS): LifecycleConfiguration {
  const c = record(input);
  const rules = c['rules'];
  if (!Array.isArray(rules) || rules.length === 0) throw malformed();
  if (rules.length > LIFECYCLE_MAX_RULES) throw invalidRequest(`The number of lifecycle rules must not exceed the allowed limit of ${LIFECYCLE_MAX_RULES} rules`);
  const validated = rules.map((r) => validateRule(r, transitionTargets));
  const ids = new Set<string>();
  for (const rule of validated) {
    if (rule.id === undefined) continue;
    if (ids.has(rule.id)) throw invalidArgument('Rule ID must be unique. Found same ID for more than one rule');
    ids.add(rule.id);
  }
  return { rules: validated };
}

/** The problem with a configuration (S3's code and message), or null when it is valid. */
export function bucketLifecycleProblem(input: unknown, transitionTargets: ReadonlySet<string> = LIFECYCLE_TRANSITION_TARGETS): { readonly code: BucketLifecycleErrorCode; readonly message: string } | null {
  try {
    validateLifecycleConfiguration(input, transitionTargets);
    return null;
  } catch (error) {
    if (error instanceof BucketLifecycleError) return { code: error.code, message: error.message };
    throw error;
  }
}
