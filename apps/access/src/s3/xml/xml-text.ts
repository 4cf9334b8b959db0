/**
 * Escapes text for an XML 1.0 element body the way S3 does.
 *
 * S3 writes `\r` and `\n` as character references so they survive XML end-of-line handling, and
 * writes other control characters as numeric references too (`&#x1;`). Those references are not
 * well-formed XML 1.0, which is why S3 tells clients to ask for `EncodingType=url` when keys hold
 * such characters; we behave the same so clients see what they would see from S3.
 */
export function escapeXmlText(text: string): string {
  let out = '';
  let runStart = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const replacement = replacementFor(code);
    if (replacement === undefined) continue;
    out += text.slice(runStart, i) + replacement;
    runStart = i + 1;
  }
  return runStart === 0 ? text : out + text.slice(runStart);
}

function replacementFor(code: number): string | undefined {
  switch (code) {
    case 0x26:
      return '&amp;';
    case 0x3c:
      return '&lt;';
    case 0x3e:
      return '&gt;';
    case 0x22:
      return '&quot;';
    case 0x27:
      return '&apos;';
    case 0x09:
      return undefined;
    case 0x0a:
      return '&#10;';
    case 0x0d:
      return '&#13;';
    default:
      if (code < 0x20 || code === 0x7f) return `&#x${code.toString(16).toUpperCase()};`;
      return undefined;
  }
}

/** `<name>escaped text</name>`. */
export function xmlElement(name: string, text: string): string {
  return `<${name}>${escapeXmlText(text)}</${name}>`;
}

export const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';
export const S3_XML_NAMESPACE = 'http://s3.amazonaws.com/doc/2006-03-01/';

/** `<name>children</name>` where children are already-rendered XML. */
export function xmlNode(name: string, children: ReadonlyArray<string | undefined>): string {
  return `<${name}>${children.filter((child) => child !== undefined).join('')}</${name}>`;
}

/** An element that is left out when the value is undefined. */
export function optionalElement(name: string, text: string | number | boolean | undefined): string | undefined {
  return text === undefined ? undefined : xmlElement(name, String(text));
}

/** The root element of an S3 response, in S3's namespace, after the XML declaration. */
export function xmlDocument(rootName: string, children: ReadonlyArray<string | undefined>): string {
  return `${XML_DECLARATION}<${rootName} xmlns="${S3_XML_NAMESPACE}">${children.filter((child) => child !== undefined).join('')}</${rootName}>`;
}

/** S3 timestamps: ISO 8601 in UTC with milliseconds, e.g. 2009-10-12T17:50:30.000Z. */
export function s3Timestamp(date: Date): string {
  return date.toISOString();
}

/** ETags are quoted in XML bodies and headers: "9b2cf535f27731c974343645a3985328". */
export function quoteEtag(etag: string): string {
  return etag.startsWith('"') ? etag : `"${etag}"`;
}

export function unquoteEtag(etag: string): string {
  const trimmed = etag.trim();
  return trimmed.length >= 2 && trimmed.startsWith('"') && trimmed.endsWith('"') ? trimmed.slice(1, -1) : trimmed;
}

/**
 * The `EncodingType=url` form of keys and prefixes in list results: unreserved characters and '/'
 * stay, a space becomes '+', everything else is %XX of its UTF-8 bytes (what S3 and MinIO send and
 * what botocore decodes with unquote_plus).
 */
export function s3UrlEncode(text: string): string {
  return encodeURIComponent(text)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%2F/g, '/');
}
