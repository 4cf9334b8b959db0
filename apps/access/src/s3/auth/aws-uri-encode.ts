import { S3Error } from '../errors/s3.errors';

/**
 * AWS's UriEncode: every byte except the RFC 3986 unreserved characters (A-Z a-z 0-9 - . _ ~)
 * becomes %XX in upper-case hex; `/` is kept when encoding a path.
 */
export function awsUriEncode(text: string, keepSlash: boolean): string {
  let encoded: string;
  try {
    encoded = encodeURIComponent(text);
  } catch {
    // Lone surrogates cannot be UTF-8 encoded; they never come from a decoded request.
    throw new S3Error('InvalidURI');
  }
  encoded = encoded.replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return keepSlash ? encoded.replace(/%2F/g, '/') : encoded;
}
