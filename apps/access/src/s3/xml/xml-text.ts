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
