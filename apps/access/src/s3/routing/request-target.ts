import { S3Error } from '../errors/s3.errors';

/** One query parameter, decoded; `value` is '' for a bare `?uploads`. */
export interface QueryParam {
  readonly name: string;
  readonly value: string;
  /** False for a bare name without `=`, which S3 treats as a subresource. */
  readonly hasValue: boolean;
}

/** The request target (`/bucket/key?query`) split and decoded once for auth and routing. */
export interface RequestTarget {
  /** The path exactly as sent, still percent-encoded. */
  readonly rawPath: string;
  /** The path percent-decoded; `+` stays a literal plus. */
  readonly path: string;
  readonly query: readonly QueryParam[];
}

/** Percent-decodes strictly as UTF-8; malformed escapes or invalid UTF-8 are InvalidURI. */
export function percentDecode(text: string): string {
  if (!text.includes('%')) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    throw new S3Error('InvalidURI');
  }
}

/** Query strings decode `+` as a space, as S3 (and form encoding) does; paths do not. */
function decodeQueryComponent(text: string): string {
  return percentDecode(text.replace(/\+/g, ' '));
}

export function parseRequestTarget(target: string): RequestTarget {
  const queryStart = target.indexOf('?');
  const rawPath = queryStart === -1 ? target : target.slice(0, queryStart);
  const rawQuery = queryStart === -1 ? '' : target.slice(queryStart + 1);
  if (!rawPath.startsWith('/')) throw new S3Error('InvalidURI');
  const query: QueryParam[] = [];
  for (const pair of rawQuery.split('&')) {
    if (pair === '') continue;
    const equals = pair.indexOf('=');
    const hasValue = equals !== -1;
    query.push({
      name: decodeQueryComponent(hasValue ? pair.slice(0, equals) : pair),
      value: hasValue ? decodeQueryComponent(pair.slice(equals + 1)) : '',
      hasValue,
    });
  }
  return { rawPath, path: percentDecode(rawPath), query };
}

/** The first value of a query parameter, or undefined. */
export function queryValue(query: readonly QueryParam[], name: string): string | undefined {
  return query.find((param) => param.name === name)?.value;
}

export function hasQueryParam(query: readonly QueryParam[], name: string): boolean {
  return query.some((param) => param.name === name);
}
