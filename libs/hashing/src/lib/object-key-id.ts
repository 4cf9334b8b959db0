import { createHash } from 'node:crypto';

/**
 * An object key's id: the lowercase hex SHA-256 of the key's UTF-8 bytes. The key's events live on
 * a subject named by it, since a key (any UTF-8, up to 1 KiB, dots and wildcards included) cannot
 * be a subject token itself.
 */
export function keyIdOf(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}
