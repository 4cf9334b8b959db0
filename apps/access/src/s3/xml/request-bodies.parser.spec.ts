import { S3Error } from '../errors/s3.errors';
import {
  MAX_XML_BODY_BYTES,
  MAX_XML_NESTING_DEPTH,
  decodeXmlEntities,
  parseCorsConfiguration as parseCors,
  parseAccessControlPolicy,
  parseCompleteMultipartUpload,
  parseCreateBucketConfiguration,
  parseDeleteObjects,
  parseTagging,
  parseVersioningConfiguration,
} from './request-bodies.parser';
import { codeOf } from '../../testing/s3-error-code';

const NS = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"';

describe('XML request bodies', () => {
  describe('CreateBucketConfiguration', () => {
    it('accepts an empty body and reads the location constraint', () => {
      expect(parseCreateBucketConfiguration(undefined)).toEqual({});
      expect(parseCreateBucketConfiguration('  ')).toEqual({});
      expect(parseCreateBucketConfiguration(`<CreateBucketConfiguration ${NS}><LocationConstraint>eu-cairn-1</LocationConstraint></CreateBucketConfiguration>`)).toEqual({
        locationConstraint: 'eu-cairn-1',
      });
      expect(parseCreateBucketConfiguration(Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>\n<CreateBucketConfiguration ${NS}/>`))).toEqual({});
    });

    it.each([
      ['not xml', 'hello'],
      ['wrong root', '<Configuration><LocationConstraint>x</LocationConstraint></Configuration>'],
      ['unclosed', '<CreateBucketConfiguration><LocationConstraint>x</CreateBucketConfiguration>'],
      ['two roots', '<CreateBucketConfiguration/><CreateBucketConfiguration/>'],
      ['nested where text is expected', '<CreateBucketConfiguration><LocationConstraint><x/></LocationConstraint></CreateBucketConfiguration>'],
    ])('refuses %s with MalformedXML', (_name, body) => {
      expect(codeOf(() => parseCreateBucketConfiguration(body))).toBe('MalformedXML');
    });
  });

  describe('CompleteMultipartUpload', () => {
    const body = (parts: string) => `<CompleteMultipartUpload ${NS}>${parts}</CompleteMultipartUpload>`;
    const part = (n: number | string, etag = `"etag${n}"`) => `<Part><PartNumber>${n}</PartNumber><ETag>${etag}</ETag></Part>`;

    it('reads parts in order, unquoting ETags (raw or as &quot;) and keeping checksums', () => {
      const xml = body(`\n  ${part(1)}\n  ${part(2, '&quot;etag2&quot;')}\n  <Part><PartNumber>5</PartNumber><ETag>e5</ETag><ChecksumCRC32>AAAAAA==</ChecksumCRC32></Part>\n`);
      expect(parseCompleteMultipartUpload(xml)).toEqual([
        { partNumber: 1, etag: 'etag1', checksums: {} },
        { partNumber: 2, etag: 'etag2', checksums: {} },
        { partNumber: 5, etag: 'e5', checksums: { CRC32: 'AAAAAA==' } },
      ]);
    });

    it('answers InvalidPartOrder for descending or repeated part numbers', () => {
      expect(codeOf(() => parseCompleteMultipartUpload(body(part(2) + part(1))))).toBe('InvalidPartOrder');
      expect(codeOf(() => parseCompleteMultipartUpload(body(part(1) + part(1))))).toBe('InvalidPartOrder');
    });

    it('refuses no parts, missing fields and bad part numbers', () => {
      expect(codeOf(() => parseCompleteMultipartUpload(body('')))).toBe('MalformedXML');
      expect(codeOf(() => parseCompleteMultipartUpload(''))).toBe('MalformedXML');
      expect(codeOf(() => parseCompleteMultipartUpload(body('<Part><PartNumber>1</PartNumber></Part>')))).toBe('MalformedXML');
      expect(codeOf(() => parseCompleteMultipartUpload(body(part('one'))))).toBe('MalformedXML');
      expect(codeOf(() => parseCompleteMultipartUpload(body(part(0))))).toBe('InvalidArgument');
      expect(codeOf(() => parseCompleteMultipartUpload(body(part(10_001))))).toBe('InvalidArgument');
      expect(codeOf(() => parseCompleteMultipartUpload(body('<Part><PartNumber>1</PartNumber><ETag>e</ETag><ChecksumMD4>x</ChecksumMD4></Part>')))).toBe('MalformedXML');
    });
  });

  describe('Delete (DeleteObjects)', () => {
    const object = (key: string, versionId?: string) => `<Object><Key>${key}</Key>${versionId ? `<VersionId>${versionId}</VersionId>` : ''}</Object>`;

    it('reads keys exactly (entities, numeric references, whitespace, digits) and Quiet', () => {
      const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<Delete ${NS}>\n <Quiet>true</Quiet>\n ${object(' a&amp;b&lt;&#13;&#x1F600; ')}${object('0123', 'v1')}${object('&amp;#13;')}</Delete>`;
      expect(parseDeleteObjects(xml)).toEqual({
        quiet: true,
        objects: [{ key: ' a&b<\r😀 ' }, { key: '0123', versionId: 'v1' }, { key: '&#13;' }],
      });
      expect(parseDeleteObjects(`<Delete>${object('k')}</Delete>`).quiet).toBe(false);
    });

    it('accepts 1000 objects and refuses 1001 or none', () => {
      const many = (n: number) => `<Delete>${Array.from({ length: n }, (_v, i) => object(`k${i}`)).join('')}</Delete>`;
      expect(parseDeleteObjects(many(1000)).objects).toHaveLength(1000);
      expect(codeOf(() => parseDeleteObjects(many(1001)))).toBe('MalformedXML');
      expect(codeOf(() => parseDeleteObjects('<Delete></Delete>'))).toBe('MalformedXML');
    });

    it.each([
      ['entity declarations (billion laughs)', '<!DOCTYPE d [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><Delete><Object><Key>&b;</Key></Object></Delete>'],
      ['an undeclared entity', '<Delete><Object><Key>&nbsp;</Key></Object></Delete>'],
      ['a bare ampersand', '<Delete><Object><Key>a & b</Key></Object></Delete>'],
      ['a reference to a surrogate', '<Delete><Object><Key>&#xD800;</Key></Object></Delete>'],
      ['an object without a key', '<Delete><Object><VersionId>v</VersionId></Object></Delete>'],
      ['a bad Quiet', '<Delete><Quiet>yes</Quiet><Object><Key>k</Key></Object></Delete>'],
      ['a huge body', `<Delete>${'<Object><Key>k</Key></Object>'.repeat(80_000)}</Delete>`],
    ])('refuses %s with MalformedXML', (_name, xml) => {
      expect(codeOf(() => parseDeleteObjects(xml))).toBe('MalformedXML');
    });
  });

  describe('Tagging', () => {
    const tagging = (tags: ReadonlyArray<readonly [string, string]>) =>
      `<Tagging ${NS}><TagSet>${tags.map(([k, v]) => `<Tag><Key>${k}</Key><Value>${v}</Value></Tag>`).join('')}</TagSet></Tagging>`;

    it('reads tags, including empty values and an empty set', () => {
      expect(parseTagging(tagging([['project', 'cairn'], ['empty', '']]))).toEqual([
        { key: 'project', value: 'cairn' },
        { key: 'empty', value: '' },
      ]);
      expect(parseTagging(`<Tagging><TagSet/></Tagging>`)).toEqual([]);
    });

    it('enforces the limits with InvalidTag', () => {
      const ten = Array.from({ length: 10 }, (_v, i) => [`k${i}`, 'v'] as const);
      expect(parseTagging(tagging(ten))).toHaveLength(10);
      expect(codeOf(() => parseTagging(tagging([...ten, ['k10', 'v']])))).toBe('InvalidTag');
      expect(parseTagging(tagging([...ten, ['k10', 'v']]), 50)).toHaveLength(11);
      expect(parseTagging(tagging([['😀'.repeat(128), 'v'.repeat(256)]]))).toHaveLength(1);
      expect(codeOf(() => parseTagging(tagging([['k'.repeat(129), 'v']])))).toBe('InvalidTag');
      expect(codeOf(() => parseTagging(tagging([['k', 'v'.repeat(257)]])))).toBe('InvalidTag');
      expect(codeOf(() => parseTagging(tagging([['', 'v']])))).toBe('InvalidTag');
      expect(codeOf(() => parseTagging(tagging([['a', '1'], ['a', '2']])))).toBe('InvalidTag');
      expect(codeOf(() => parseTagging(tagging([['aws:cloudformation', 'x']])))).toBe('InvalidTag');
    });

    it('refuses a missing TagSet or a tag without a value with MalformedXML', () => {
      expect(codeOf(() => parseTagging('<Tagging></Tagging>'))).toBe('MalformedXML');
      expect(codeOf(() => parseTagging('<Tagging><TagSet><Tag><Key>k</Key></Tag></TagSet></Tagging>'))).toBe('MalformedXML');
    });
  });

  describe('VersioningConfiguration', () => {
    it('reads Status and MfaDelete and refuses other values', () => {
      expect(parseVersioningConfiguration(`<VersioningConfiguration ${NS}><Status>Enabled</Status></VersioningConfiguration>`)).toEqual({ status: 'Enabled' });
      expect(parseVersioningConfiguration('<VersioningConfiguration><Status>Suspended</Status><MfaDelete>Disabled</MfaDelete></VersioningConfiguration>')).toEqual({
        status: 'Suspended',
        mfaDelete: 'Disabled',
      });
      expect(codeOf(() => parseVersioningConfiguration('<VersioningConfiguration><Status>On</Status></VersioningConfiguration>'))).toBe('MalformedXML');
      expect(codeOf(() => parseVersioningConfiguration(''))).toBe('MalformedXML');
    });
  });

  describe('AccessControlPolicy', () => {
    const grant = (grantee: string, permission: string) =>
      `<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser">${grantee}</Grantee><Permission>${permission}</Permission></Grant>`;

    it('reads the owner and each grant (grantee id or URI, permission)', () => {
      const body =
        `<AccessControlPolicy ${NS}><Owner><ID>alice</ID></Owner><AccessControlList>` +
        grant('<ID> alice </ID><DisplayName>alice</DisplayName>', 'FULL_CONTROL') +
        grant('<URI>http://acs.amazonaws.com/groups/global/AllUsers</URI>', 'READ') +
        `</AccessControlList></AccessControlPolicy>`;
      expect(parseAccessControlPolicy(body)).toEqual({
        ownerId: 'alice',
        grants: [
          { granteeId: 'alice', permission: 'FULL_CONTROL' },
          { granteeUri: 'http://acs.amazonaws.com/groups/global/AllUsers', permission: 'READ' },
        ],
      });
      expect(parseAccessControlPolicy(`<AccessControlPolicy><AccessControlList/></AccessControlPolicy>`)).toEqual({ grants: [] });
    });

    it.each([
      ['a canonical user by id', '<ID>0123</ID>', { granteeId: '0123' }],
      ['a Cairn user by email (AmazonCustomerByEmail)', '<EmailAddress>Bob@Example.com</EmailAddress>', { granteeEmail: 'Bob@Example.com' }],
      ['a group by URI', '<URI>http://acs.amazonaws.com/groups/global/AuthenticatedUsers</URI>', { granteeUri: 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers' }],
    ])('reads %s (PutBucketAcl and PutObjectAcl bodies)', (_name, grantee, parsed) => {
      const body = `<AccessControlPolicy ${NS}><Owner><ID>o</ID></Owner><AccessControlList>${grant(grantee, 'READ_ACP')}</AccessControlList></AccessControlPolicy>`;
      expect(parseAccessControlPolicy(body).grants).toEqual([{ ...parsed, permission: 'READ_ACP' }]);
    });

    it.each([
      ['not xml', '<AccessControlPolicy><Owner>'],
      ['wrong root', '<Policy/>'],
      ['a grant without a permission', `<AccessControlPolicy><AccessControlList><Grant><Grantee><ID>a</ID></Grantee></Grant></AccessControlList></AccessControlPolicy>`],
    ])('refuses %s with MalformedACLError', (_name, body) => {
      expect(codeOf(() => parseAccessControlPolicy(body))).toBe('MalformedACLError');
    });
  });

  describe('limits: nesting depth and size are client errors on every XML body, never a 500', () => {
    const nested = (root: string, depth: number) => `<${root}>${'<a>'.repeat(depth)}x${'</a>'.repeat(depth)}</${root}>`;
    const parsers: ReadonlyArray<readonly [string, string, (body: string) => unknown]> = [
      ['CreateBucketConfiguration', 'MalformedXML', parseCreateBucketConfiguration],
      ['CompleteMultipartUpload', 'MalformedXML', parseCompleteMultipartUpload],
      ['Delete', 'MalformedXML', parseDeleteObjects],
      ['Tagging', 'MalformedXML', (body) => parseTagging(body)],
      ['VersioningConfiguration', 'MalformedXML', parseVersioningConfiguration],
      ['AccessControlPolicy', 'MalformedACLError', parseAccessControlPolicy],
    ];

    it.each(parsers)('<%s> nested past the depth limit (and far past the parser’s own) is %s', (root, code, parse) => {
      for (const depth of [MAX_XML_NESTING_DEPTH + 1, 150, 5_000]) expect(codeOf(() => parse(nested(root, depth)))).toBe(code);
    });

    it.each(parsers)('<%s> larger than MAX_XML_BODY_BYTES is %s', (root, code, parse) => {
      const body = `<${root}>${' '.repeat(MAX_XML_BODY_BYTES)}</${root}>`;
      expect(codeOf(() => parse(body))).toBe(code);
    });

    it('takes a body nested exactly to the depth limit', () => {
      expect(parseCreateBucketConfiguration(`<CreateBucketConfiguration>${'<a>'.repeat(MAX_XML_NESTING_DEPTH - 1)}${'</a>'.repeat(MAX_XML_NESTING_DEPTH - 1)}</CreateBucketConfiguration>`)).toEqual({});
    });
  });

  it('decodeXmlEntities decodes the five named entities and numeric references only', () => {
    expect(decodeXmlEntities('&lt;&gt;&amp;&quot;&apos;&#65;&#x42;')).toBe(`<>&"'AB`);
    expect(() => decodeXmlEntities('&copy;')).toThrow(S3Error);
  });
});

describe('parseCorsConfiguration', () => {
  const code = (body: string) => {
    try {
      parseCors(body);
      return 'ok';
    } catch (error) {
      return (error as { code?: string }).code;
    }
  };

  it('reads rules in the shape the protocol validates', () => {
    const body = `<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><CORSRule><ID>web</ID><AllowedOrigin>https://a.example</AllowedOrigin><AllowedMethod>GET</AllowedMethod><AllowedMethod>PUT</AllowedMethod><AllowedHeader>*</AllowedHeader><ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>300</MaxAgeSeconds></CORSRule><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>`;
    expect(parseCors(body)).toEqual({
      rules: [
        { id: 'web', allowedMethods: ['GET', 'PUT'], allowedOrigins: ['https://a.example'], allowedHeaders: ['*'], exposeHeaders: ['ETag'], maxAgeSeconds: 300 },
        { allowedMethods: ['GET'], allowedOrigins: ['*'], allowedHeaders: [], exposeHeaders: [] },
      ],
    });
  });

  it.each([
    ['an empty body', ''],
    ['another root', '<CORSConfig><CORSRule/></CORSConfig>'],
    ['an unknown element', '<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><Nope>1</Nope></CORSRule></CORSConfiguration>'],
    ['a non-integer MaxAgeSeconds', '<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><MaxAgeSeconds>1.5</MaxAgeSeconds></CORSRule></CORSConfiguration>'],
    ['two IDs', '<CORSConfiguration><CORSRule><ID>a</ID><ID>b</ID><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>'],
    ['not XML', '<CORSConfiguration><CORSRule>'],
  ])('refuses %s with MalformedXML', (_, body) => expect(code(body)).toBe('MalformedXML'));
});
