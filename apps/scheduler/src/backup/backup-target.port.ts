import type { Readable } from 'node:stream';

/** Where backups go: a key-value store of immutable blobs (a directory, or a bucket of any S3 server). */
export interface BackupTarget {
  readonly description: string;
  /** Writes the whole blob; once it resolves the blob is durable (fsync'd, or acknowledged by S3). */
  put(key: string, body: Buffer): Promise<void>;
  /** Null when absent. */
  get(key: string): Promise<Buffer | null>;
  /** The blob as a stream; null when absent. */
  stream(key: string): Promise<Readable | null>;
  /** Size in bytes; null when absent. */
  head(key: string): Promise<number | null>;
  /** Keys under the prefix, in no particular order. */
  list(prefix: string): AsyncIterable<string>;
  delete(key: string): Promise<void>;
  close(): Promise<void>;
}
