/** What metadata knows about an access key. */
export interface AccessKeyRecord {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** The user the key acts for; buckets are owned by users. */
  readonly owner: string;
  /** The root key may touch every bucket. */
  readonly isRoot: boolean;
}

/** Finds access keys (held by metadata). Undefined for an unknown or disabled key. */
export interface AccessKeyLookup {
  find(accessKeyId: string): Promise<AccessKeyRecord | undefined>;
}

export const ACCESS_KEY_LOOKUP = Symbol('AccessKeyLookup');

/** An AccessKeyLookup over a fixed set of keys, for unit tests and development. */
export class InMemoryAccessKeyLookup implements AccessKeyLookup {
  private readonly keys: ReadonlyMap<string, AccessKeyRecord>;

  constructor(records: readonly AccessKeyRecord[]) {
    this.keys = new Map(records.map((record) => [record.accessKeyId, record]));
  }

  async find(accessKeyId: string): Promise<AccessKeyRecord | undefined> {
    return this.keys.get(accessKeyId);
  }
}
