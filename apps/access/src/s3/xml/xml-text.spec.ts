import { escapeXmlText } from './xml-text';

describe('escapeXmlText', () => {
  it('leaves plain text (including unicode and tabs) as is', () => {
    expect(escapeXmlText('photos/2024/été\tü 😀.jpg')).toBe('photos/2024/été\tü 😀.jpg');
  });

  it('escapes markup characters and quotes', () => {
    expect(escapeXmlText(`a&b<c>d"e'f`)).toBe('a&amp;b&lt;c&gt;d&quot;e&apos;f');
  });

  it('writes CR and LF as character references so XML parsers keep them', () => {
    expect(escapeXmlText('a\r\nb')).toBe('a&#13;&#10;b');
  });

  it('writes other control characters as numeric references, as S3 does', () => {
    expect(escapeXmlText('a\u0001b\u001fc\u007f')).toBe('a&#x1;b&#x1F;c&#x7F;');
  });
});
