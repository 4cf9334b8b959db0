import { XMLParser } from 'fast-xml-parser';
import {
  renderListAllMyBucketsResult,
  renderLocationConstraint,
  renderTagging,
  renderVersioningConfiguration,
} from './bucket-results.xml';
import {
  renderListBucketResultV1,
  renderListBucketResultV2,
  renderListMultipartUploadsResult,
  renderListPartsResult,
  renderListVersionsResult,
  type ObjectSummaryView,
} from './list-results.xml';
import {
  renderCompleteMultipartUploadResult,
  renderCopyObjectResult,
  renderCopyPartResult,
  renderDeleteResult,
  renderInitiateMultipartUploadResult,
} from './object-results.xml';
import { s3UrlEncode } from './xml-text';

const NS = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"';
const DECL = '<?xml version="1.0" encoding="UTF-8"?>\n';
const owner = { id: 'owner-id', displayName: 'alice' };
const when = new Date(Date.UTC(2009, 9, 12, 17, 50, 30));
const reader = new XMLParser({ ignoreAttributes: false, parseTagValue: false, processEntities: true, htmlEntities: true, isArray: (n) => ['Contents', 'CommonPrefixes', 'Version', 'DeleteMarker', 'Part', 'Upload', 'Deleted', 'Error', 'Bucket', 'Tag'].includes(n) });

/** Element names in document order, to check S3's ordering. */
function elementOrder(xml: string, within: string): string[] {
  const body = xml.slice(xml.search(new RegExp(`<${within}[\\s>]`)));
  const inner = body.slice(body.indexOf('>') + 1);
  const names: string[] = [];
  let depth = 0;
  for (const match of inner.matchAll(/<(\/?)([A-Za-z0-9]+)[^>]*?(\/?)>/g)) {
    const [, closing, name, selfClosing] = match;
    if (closing) {
      depth--;
      if (depth < 0) break;
      continue;
    }
    if (depth === 0) names.push(name);
    if (!selfClosing) depth++;
  }
  return names;
}

const object = (key: string): ObjectSummaryView => ({ key, lastModified: when, etag: '9b2cf535f27731c974343645a3985328', sizeBytes: 434234, storageClass: 'STANDARD', owner });

describe('S3 XML responses', () => {
  it('ListAllMyBucketsResult', () => {
    expect(renderListAllMyBucketsResult(owner, [{ name: 'photos', creationDate: when }])).toBe(
      `${DECL}<ListAllMyBucketsResult ${NS}><Owner><ID>owner-id</ID><DisplayName>alice</DisplayName></Owner>` +
        '<Buckets><Bucket><Name>photos</Name><CreationDate>2009-10-12T17:50:30.000Z</CreationDate></Bucket></Buckets></ListAllMyBucketsResult>',
    );
  });

  it('ListBucketResult v1 in S3 element order, with quoted ETags and milliseconds', () => {
    const xml = renderListBucketResultV1({
      bucket: 'b',
      prefix: 'p/',
      marker: '',
      nextMarker: 'p/z',
      maxKeys: 2,
      delimiter: '/',
      isTruncated: true,
      contents: [object('p/a&b<c>')],
      commonPrefixes: ['p/sub/'],
    });
    expect(elementOrder(xml, 'ListBucketResult')).toEqual(['Name', 'Prefix', 'Marker', 'NextMarker', 'MaxKeys', 'Delimiter', 'IsTruncated', 'Contents', 'CommonPrefixes']);
    expect(elementOrder(xml, 'Contents')).toEqual(['Key', 'LastModified', 'ETag', 'Size', 'Owner', 'StorageClass']);
    expect(xml).toContain('<Key>p/a&amp;b&lt;c&gt;</Key><LastModified>2009-10-12T17:50:30.000Z</LastModified><ETag>&quot;9b2cf535f27731c974343645a3985328&quot;</ETag>');
    const parsed = reader.parse(xml).ListBucketResult;
    expect(parsed['@_xmlns']).toBe('http://s3.amazonaws.com/doc/2006-03-01/');
    expect(parsed.Contents[0].Key).toBe('p/a&b<c>');
    expect(parsed.CommonPrefixes[0].Prefix).toBe('p/sub/');
  });

  it('ListBucketResult v2 with KeyCount over objects and prefixes, and EncodingType=url on keys, prefixes and delimiter', () => {
    const xml = renderListBucketResultV2({
      bucket: 'b',
      prefix: 'a b/',
      startAfter: 'a b/0',
      continuationToken: 'tok',
      nextContinuationToken: 'next',
      maxKeys: 1000,
      delimiter: '/',
      isTruncated: false,
      contents: [{ ...object('a b/ctrl\u0001+ü'), owner: undefined }],
      commonPrefixes: ['a b/dir/'],
      encodingType: 'url',
    });
    expect(elementOrder(xml, 'ListBucketResult')).toEqual([
      'Name', 'Prefix', 'StartAfter', 'ContinuationToken', 'NextContinuationToken', 'KeyCount', 'MaxKeys', 'Delimiter', 'IsTruncated', 'Contents', 'CommonPrefixes', 'EncodingType',
    ]);
    const parsed = reader.parse(xml).ListBucketResult;
    expect(parsed.KeyCount).toBe('2');
    expect(parsed.Prefix).toBe('a%20b/');
    expect(parsed.StartAfter).toBe('a%20b/0');
    expect(parsed.Contents[0].Key).toBe('a%20b/ctrl%01%2B%C3%BC');
    expect(parsed.Contents[0].Owner).toBeUndefined();
    expect(parsed.CommonPrefixes[0].Prefix).toBe('a%20b/dir/');
    expect(parsed.EncodingType).toBe('url');
  });

  it('writes control characters in keys as character references when EncodingType is not url', () => {
    const xml = renderListBucketResultV2({ bucket: 'b', prefix: '', maxKeys: 1, isTruncated: false, contents: [object('line\r\nbreak\u0002')], commonPrefixes: [] });
    expect(xml).toContain('<Key>line&#13;&#10;break&#x2;</Key>');
  });

  it('s3UrlEncode keeps unreserved characters and slashes, spaces as %20', () => {
    expect(s3UrlEncode("a b/c+d~e_f.g-h!*'()%&=?#")).toBe('a%20b/c%2Bd~e_f.g-h%21%2A%27%28%29%25%26%3D%3F%23');
    expect(decodeURIComponent(s3UrlEncode('x y+z/ü'))).toBe('x y+z/ü');
  });

  it('ListVersionsResult interleaves versions and delete markers', () => {
    const xml = renderListVersionsResult({
      bucket: 'b',
      prefix: '',
      keyMarker: '',
      versionIdMarker: '',
      nextKeyMarker: 'k2',
      nextVersionIdMarker: 'v9',
      maxKeys: 3,
      isTruncated: true,
      entries: [
        { kind: 'delete-marker', key: 'k', versionId: 'v3', isLatest: true, lastModified: when, owner },
        { kind: 'version', key: 'k', versionId: 'v2', isLatest: false, lastModified: when, etag: 'e', sizeBytes: 1, storageClass: 'STANDARD', owner },
        { kind: 'version', key: 'k2', versionId: 'null', isLatest: true, lastModified: when, etag: 'e', sizeBytes: 1, storageClass: 'STANDARD' },
      ],
      commonPrefixes: [],
    });
    expect(elementOrder(xml, 'ListVersionsResult')).toEqual([
      'Name', 'Prefix', 'KeyMarker', 'VersionIdMarker', 'NextKeyMarker', 'NextVersionIdMarker', 'MaxKeys', 'IsTruncated', 'DeleteMarker', 'Version', 'Version',
    ]);
    expect(elementOrder(xml, 'Version')).toEqual(['Key', 'VersionId', 'IsLatest', 'LastModified', 'ETag', 'Size', 'Owner', 'StorageClass']);
    expect(elementOrder(xml, 'DeleteMarker')).toEqual(['Key', 'VersionId', 'IsLatest', 'LastModified', 'Owner']);
  });

  it('multipart results', () => {
    expect(renderInitiateMultipartUploadResult('b', 'k&', 'up1')).toBe(
      `${DECL}<InitiateMultipartUploadResult ${NS}><Bucket>b</Bucket><Key>k&amp;</Key><UploadId>up1</UploadId></InitiateMultipartUploadResult>`,
    );
    const complete = renderCompleteMultipartUploadResult({ location: 'http://h/b/k', bucket: 'b', key: 'k', etag: '3858f62230ac3c915f300c664312c11f-9', checksums: { CRC32: 'AAAAAA==' } });
    expect(elementOrder(complete, 'CompleteMultipartUploadResult')).toEqual(['Location', 'Bucket', 'Key', 'ETag', 'ChecksumCRC32']);
    expect(complete).toContain('<ETag>&quot;3858f62230ac3c915f300c664312c11f-9&quot;</ETag>');

    const parts = renderListPartsResult({
      bucket: 'b', key: 'k', uploadId: 'u', partNumberMarker: 0, nextPartNumberMarker: 2, maxParts: 2, isTruncated: true,
      parts: [1, 2].map((n) => ({ partNumber: n, lastModified: when, etag: `e${n}`, sizeBytes: 5 * 1024 * 1024 })),
      initiator: owner, owner, storageClass: 'STANDARD',
    });
    expect(elementOrder(parts, 'ListPartsResult')).toEqual([
      'Bucket', 'Key', 'UploadId', 'PartNumberMarker', 'NextPartNumberMarker', 'MaxParts', 'IsTruncated', 'Part', 'Part', 'Initiator', 'Owner', 'StorageClass',
    ]);
    expect(elementOrder(parts, 'Part')).toEqual(['PartNumber', 'LastModified', 'ETag', 'Size']);

    const uploads = renderListMultipartUploadsResult({
      bucket: 'b', keyMarker: '', uploadIdMarker: '', nextKeyMarker: 'k', nextUploadIdMarker: 'u', prefix: '', maxUploads: 1000, isTruncated: false,
      uploads: [{ key: 'k', uploadId: 'u', initiator: owner, owner, storageClass: 'STANDARD', initiated: when }], commonPrefixes: [],
    });
    expect(elementOrder(uploads, 'ListMultipartUploadsResult')).toEqual([
      'Bucket', 'KeyMarker', 'UploadIdMarker', 'NextKeyMarker', 'NextUploadIdMarker', 'Prefix', 'MaxUploads', 'IsTruncated', 'Upload',
    ]);
    expect(elementOrder(uploads, 'Upload')).toEqual(['Key', 'UploadId', 'Initiator', 'Owner', 'StorageClass', 'Initiated']);
  });

  it('copy results', () => {
    expect(renderCopyObjectResult({ lastModified: when, etag: 'abc' })).toBe(
      `${DECL}<CopyObjectResult ${NS}><LastModified>2009-10-12T17:50:30.000Z</LastModified><ETag>&quot;abc&quot;</ETag></CopyObjectResult>`,
    );
    expect(renderCopyPartResult({ lastModified: when, etag: '"abc"' })).toBe(
      `${DECL}<CopyPartResult ${NS}><LastModified>2009-10-12T17:50:30.000Z</LastModified><ETag>&quot;abc&quot;</ETag></CopyPartResult>`,
    );
  });

  it('DeleteResult lists deletions and errors, and only errors when quiet', () => {
    const deleted = [{ key: 'a' }, { key: 'b', versionId: 'v1', deleteMarker: true, deleteMarkerVersionId: 'v2' }];
    const errors = [{ key: 'c', code: 'AccessDenied', message: 'Access Denied' }];
    const loud = renderDeleteResult(deleted, errors, false);
    expect(elementOrder(loud, 'DeleteResult')).toEqual(['Deleted', 'Deleted', 'Error']);
    expect(loud).toContain('<Deleted><Key>b</Key><VersionId>v1</VersionId><DeleteMarker>true</DeleteMarker><DeleteMarkerVersionId>v2</DeleteMarkerVersionId></Deleted>');
    expect(elementOrder(renderDeleteResult(deleted, errors, true), 'DeleteResult')).toEqual(['Error']);
    expect(renderDeleteResult(deleted, [], true)).toBe(`${DECL}<DeleteResult ${NS}></DeleteResult>`);
  });

  it('LocationConstraint is empty for us-east-1', () => {
    expect(renderLocationConstraint('us-east-1')).toBe(`${DECL}<LocationConstraint ${NS}/>`);
    expect(renderLocationConstraint('eu-cairn-1')).toBe(`${DECL}<LocationConstraint ${NS}>eu-cairn-1</LocationConstraint>`);
  });

  it('VersioningConfiguration has no Status until versioning was configured', () => {
    expect(renderVersioningConfiguration(undefined)).toBe(`${DECL}<VersioningConfiguration ${NS}></VersioningConfiguration>`);
    expect(renderVersioningConfiguration('Suspended')).toBe(`${DECL}<VersioningConfiguration ${NS}><Status>Suspended</Status></VersioningConfiguration>`);
  });

  it('Tagging', () => {
    expect(renderTagging([{ key: 'k<', value: 'v"' }])).toBe(`${DECL}<Tagging ${NS}><TagSet><Tag><Key>k&lt;</Key><Value>v&quot;</Value></Tag></TagSet></Tagging>`);
    expect(renderTagging([])).toBe(`${DECL}<Tagging ${NS}><TagSet></TagSet></Tagging>`);
  });
});
