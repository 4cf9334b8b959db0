import { createHash } from 'node:crypto';
import { deciderSpecification } from '@cairn/eventing';
import { keyIdOf } from '@cairn/hashing';
import type { MultipartPartUploaded, MultipartUploadInitiated } from '@cairn/protocol';
import { hasCode, MetadataError } from '../shared/metadata.errors';
import { multipartEtag } from './multipart-etag';
import { multipartUploadDecider } from './multipart-upload.decider';
import type { InitiateMultipartUpload, UploadPart } from './multipart-upload.commands';

const spec = deciderSpecification(multipartUploadDecider);
const at = '2026-01-01T00:00:00.000Z';
const MiB = 1024 ** 2;
const key = 'videos/big.mp4';
const keyId = keyIdOf(key);
const hashOf = (text: string) => createHash('sha256').update(text).digest('hex');
const ETAG_ONE = '3303e12af474ca11d85ed2966a932992';
const ETAG_TWO = '3ea4e15b91a17dc76052c56cfcdf67a2';
/** The bucket life the upload is initiated in, and a later one (the name deleted and created again). */
const LIFE = 1;
const NEXT_LIFE = 9;

const initiate: InitiateMultipartUpload = {
  type: 'InitiateMultipartUpload',
  bucket: 'media',
  key,
  keyId,
  uploadId: 'u1',
  owner: 'alice',
  incarnation: LIFE,
  initiatedAt: at,
  contentType: 'video/mp4',
  userMetadata: {},
  storageClass: 'STANDARD',
};
const initiated: MultipartUploadInitiated = {
  type: 'MultipartUploadInitiated',
  data: { bucket: 'media', key, keyId, uploadId: 'u1', owner: 'alice', initiatedAt: at, contentType: 'video/mp4', userMetadata: {}, storageClass: 'STANDARD', tags: [], incarnation: LIFE, contentHeaders: {} },
};
/** Initiated before bucket lives were recorded: no incarnation. */
const { incarnation: _life, ...legacyData } = initiated.data;
const legacyInitiated: MultipartUploadInitiated = { type: 'MultipartUploadInitiated', data: legacyData };

/** A part of `sizeBytes` in chunks of at most 4 MiB. */
function uploadPart(partNumber: number, etag: string, sizeBytes: number): UploadPart {
  const chunks = [];
  for (let offsetBytes = 0; offsetBytes < sizeBytes; offsetBytes += 4 * MiB) {
    chunks.push({ hash: hashOf(`${partNumber}/${etag}/${offsetBytes}`), offsetBytes, sizeBytes: Math.min(4 * MiB, sizeBytes - offsetBytes) });
  }
  return { type: 'UploadPart', bucket: 'media', incarnation: LIFE, uploadId: 'u1', partNumber, etag, sizeBytes, checksums: {}, chunks, lastModified: at };
}
function partUploaded(partNumber: number, etag: string, sizeBytes: number): MultipartPartUploaded {
  const { type: _type, incarnation: _incarnation, ...data } = uploadPart(partNumber, etag, sizeBytes);
  return { type: 'MultipartPartUploaded', data };
}
const complete = (parts: readonly { partNumber: number; etag: string }[], versionId = 'v1') =>
  ({ type: 'CompleteMultipartUpload', bucket: 'media', incarnation: LIFE, uploadId: 'u1', parts, versionId, completedAt: at }) as const;
const abort = { type: 'AbortMultipartUpload', bucket: 'media', uploadId: 'u1', abortedAt: at } as const;

describe('multipart upload decider', () => {
  it('initiates an upload', () => spec.given([]).when(initiate).then([initiated]));

  it('records the content headers the object will have', () => {
    const contentHeaders = { 'cache-control': 'max-age=3600', 'content-encoding': 'gzip' };
    spec.given([]).when({ ...initiate, contentHeaders }).then([{ type: 'MultipartUploadInitiated', data: { ...initiated.data, contentHeaders } }]);
  });

  it('refuses content headers S3 does not store, or aws-chunked as a Content-Encoding', () => {
    spec.given([]).when({ ...initiate, contentHeaders: { 'x-other': '1' } as never }).thenThrows(MetadataError, hasCode('InvalidArgument'));
    spec.given([]).when({ ...initiate, contentHeaders: { 'content-encoding': 'aws-chunked' } }).thenThrows(MetadataError, hasCode('InvalidArgument'));
  });

  it('records the checksum the object will have, in the combinations S3 allows', () => {
    for (const checksum of [
      { algorithm: 'crc32', type: 'FULL_OBJECT' },
      { algorithm: 'crc64nvme', type: 'FULL_OBJECT' },
      { algorithm: 'sha256', type: 'COMPOSITE' },
    ] as const) {
      spec.given([]).when({ ...initiate, checksum }).then([{ type: 'MultipartUploadInitiated', data: { ...initiated.data, checksum } }]);
    }
    for (const checksum of [
      { algorithm: 'sha256', type: 'FULL_OBJECT' },
      { algorithm: 'crc64nvme', type: 'COMPOSITE' },
      { algorithm: 'md5', type: 'COMPOSITE' },
    ]) {
      spec.given([]).when({ ...initiate, checksum: checksum as never }).thenThrows(MetadataError, hasCode('InvalidArgument'));
    }
  });

  it('refuses to initiate an upload id twice', () => spec.given([initiated]).when(initiate).thenThrows(MetadataError, hasCode('InvalidArgument')));

  it('refuses to initiate with a bad key', () =>
    spec.given([]).when({ ...initiate, key: 'k'.repeat(1025) }).thenThrows(MetadataError, hasCode('KeyTooLongError')));

  describe('UploadPart', () => {
    it('records a part', () => spec.given([initiated]).when(uploadPart(1, ETAG_ONE, 5 * MiB)).then([partUploaded(1, ETAG_ONE, 5 * MiB)]));

    it.each([0, 10_001, 1.5])('refuses part number %p with InvalidArgument', (partNumber) =>
      spec.given([initiated]).when(uploadPart(partNumber, ETAG_ONE, 10)).thenThrows(MetadataError, hasCode('InvalidArgument')),
    );

    it('accepts part numbers 1 and 10000', () => {
      spec.given([initiated]).when(uploadPart(1, ETAG_ONE, 10)).then([partUploaded(1, ETAG_ONE, 10)]);
      spec.given([initiated]).when(uploadPart(10_000, ETAG_ONE, 10)).then([partUploaded(10_000, ETAG_ONE, 10)]);
    });

    it('refuses a part over 5 GiB with EntityTooLarge', () =>
      spec.given([initiated]).when({ ...uploadPart(1, ETAG_ONE, 0), sizeBytes: 5 * 1024 ** 3 + 1 }).thenThrows(MetadataError, hasCode('EntityTooLarge')));

    it('refuses parts of unknown, completed and aborted uploads with NoSuchUpload', () => {
      spec.given([]).when(uploadPart(1, ETAG_ONE, 10)).thenThrows(MetadataError, hasCode('NoSuchUpload'));
      spec
        .given([initiated, partUploaded(1, ETAG_ONE, 10), { type: 'MultipartUploadAborted', data: { bucket: 'media', uploadId: 'u1', abortedAt: at } }])
        .when(uploadPart(2, ETAG_TWO, 10))
        .thenThrows(MetadataError, hasCode('NoSuchUpload'));
      const completed = multipartUploadDecider.decide(complete([{ partNumber: 1, etag: ETAG_ONE }]), {
        ...multipartUploadDecider.evolve(multipartUploadDecider.evolve(multipartUploadDecider.initialState(), initiated), partUploaded(1, ETAG_ONE, 10)),
      });
      spec
        .given([initiated, partUploaded(1, ETAG_ONE, 10), ...completed])
        .when(uploadPart(2, ETAG_TWO, 10))
        .thenThrows(MetadataError, hasCode('NoSuchUpload'));
    });

    it('refuses an etag that is not MD5 hex', () =>
      spec.given([initiated]).when(uploadPart(1, 'xyz', 10)).thenThrows(MetadataError, hasCode('InvalidArgument')));
  });

  describe('CompleteMultipartUpload', () => {
    const twoParts = [initiated, partUploaded(1, ETAG_ONE, 5 * MiB), partUploaded(2, ETAG_TWO, 1)];

    it("produces S3's multipart etag, the total size and the chunks re-based to object offsets", () => {
      const one = uploadPart(1, ETAG_ONE, 5 * MiB);
      const two = uploadPart(2, ETAG_TWO, 1);
      spec
        .given(twoParts)
        .when(complete([{ partNumber: 1, etag: `"${ETAG_ONE}"` }, { partNumber: 2, etag: ETAG_TWO }]))
        .then([
          {
            type: 'MultipartUploadCompleted',
            data: {
              bucket: 'media',
              key,
              keyId,
              uploadId: 'u1',
              versionId: 'v1',
              etag: '0732917abc3288784e318ac0aab1757a-2',
              sizeBytes: 5 * MiB + 1,
              chunks: [...one.chunks, { ...two.chunks[0], offsetBytes: 5 * MiB }],
              parts: [
                { partNumber: 1, etag: ETAG_ONE, sizeBytes: 5 * MiB },
                { partNumber: 2, etag: ETAG_TWO, sizeBytes: 1 },
              ],
              completedAt: at,
            },
          },
        ]);
    });

    it('matches the known multipart etag vector', () => expect(multipartEtag([ETAG_ONE, ETAG_TWO])).toBe('0732917abc3288784e318ac0aab1757a-2'));

    it('uses the latest upload of a re-uploaded part', () => {
      const history = [initiated, partUploaded(1, ETAG_ONE, 5 * MiB), partUploaded(1, ETAG_TWO, 7)];
      spec.given(history).when(complete([{ partNumber: 1, etag: ETAG_ONE }])).thenThrows(MetadataError, hasCode('InvalidPart'));
      const [event] = multipartUploadDecider.decide(
        complete([{ partNumber: 1, etag: ETAG_TWO }]),
        history.reduce(multipartUploadDecider.evolve, multipartUploadDecider.initialState()),
      );
      expect(event.type === 'MultipartUploadCompleted' && event.data.sizeBytes).toBe(7);
    });

    it('completes with a subset of the uploaded parts', () => {
      const [event] = multipartUploadDecider.decide(
        complete([{ partNumber: 2, etag: ETAG_TWO }]),
        twoParts.reduce(multipartUploadDecider.evolve, multipartUploadDecider.initialState()),
      );
      expect(event.type === 'MultipartUploadCompleted' && [event.data.etag, event.data.sizeBytes]).toEqual([multipartEtag([ETAG_TWO]), 1]);
    });

    it('refuses parts out of order, or repeated, with InvalidPartOrder', () => {
      spec
        .given(twoParts)
        .when(complete([{ partNumber: 2, etag: ETAG_TWO }, { partNumber: 1, etag: ETAG_ONE }]))
        .thenThrows(MetadataError, hasCode('InvalidPartOrder'));
      spec
        .given(twoParts)
        .when(complete([{ partNumber: 1, etag: ETAG_ONE }, { partNumber: 1, etag: ETAG_ONE }]))
        .thenThrows(MetadataError, hasCode('InvalidPartOrder'));
    });

    it('refuses unknown parts and wrong etags with InvalidPart', () => {
      spec.given(twoParts).when(complete([{ partNumber: 3, etag: ETAG_ONE }])).thenThrows(MetadataError, hasCode('InvalidPart'));
      spec.given(twoParts).when(complete([{ partNumber: 1, etag: ETAG_TWO }])).thenThrows(MetadataError, hasCode('InvalidPart'));
    });

    it('refuses a part under 5 MiB that is not the last with EntityTooSmall', () =>
      spec
        .given([initiated, partUploaded(1, ETAG_ONE, 5 * MiB - 1), partUploaded(2, ETAG_TWO, 1)])
        .when(complete([{ partNumber: 1, etag: ETAG_ONE }, { partNumber: 2, etag: ETAG_TWO }]))
        .thenThrows(MetadataError, hasCode('EntityTooSmall')));

    it('refuses an empty part list with MalformedXML', () => spec.given(twoParts).when(complete([])).thenThrows(MetadataError, hasCode('MalformedXML')));

    it('treats a retried completion as done and any other as NoSuchUpload', () => {
      const parts = [{ partNumber: 1, etag: ETAG_ONE }, { partNumber: 2, etag: ETAG_TWO }];
      const done = multipartUploadDecider.decide(complete(parts), twoParts.reduce(multipartUploadDecider.evolve, multipartUploadDecider.initialState()));
      spec.given([...twoParts, ...done]).when(complete(parts)).then([]);
      spec.given([...twoParts, ...done]).when(complete(parts, 'v2')).thenThrows(MetadataError, hasCode('NoSuchUpload'));
      spec.given([...twoParts, ...done]).when(complete([{ partNumber: 2, etag: ETAG_TWO }])).thenThrows(MetadataError, hasCode('NoSuchUpload'));
    });

    it('refuses to complete an aborted or unknown upload with NoSuchUpload', () => {
      spec.given([]).when(complete([{ partNumber: 1, etag: ETAG_ONE }])).thenThrows(MetadataError, hasCode('NoSuchUpload'));
      spec
        .given([...twoParts, { type: 'MultipartUploadAborted', data: { bucket: 'media', uploadId: 'u1', abortedAt: at } }])
        .when(complete([{ partNumber: 1, etag: ETAG_ONE }]))
        .thenThrows(MetadataError, hasCode('NoSuchUpload'));
    });
  });

  describe('WithdrawUploadCompletion', () => {
    const parts = [partUploaded(2, ETAG_TWO, 1), partUploaded(1, ETAG_ONE, 5 * MiB)];
    const completeOne = complete([{ partNumber: 1, etag: ETAG_ONE }], 'v1');
    const completed = () => multipartUploadDecider.decide(completeOne, [initiated, ...parts].reduce(multipartUploadDecider.evolve, multipartUploadDecider.initialState()));
    const withdraw = (versionId = 'v1') => ({ type: 'WithdrawUploadCompletion', bucket: 'media', uploadId: 'u1', versionId, withdrawnAt: at }) as const;
    const withdrawn = {
      type: 'MultipartUploadCompletionWithdrawn',
      data: {
        bucket: 'media',
        uploadId: 'u1',
        versionId: 'v1',
        withdrawnAt: at,
        upload: initiated.data,
        parts: [parts[1], parts[0]].map(({ data: { bucket: _b, uploadId: _u, ...part } }) => part),
      },
    } as const;

    it('reopens the completed upload with every part it had, ascending, and the upload as initiated', () =>
      spec.given([initiated, ...parts, ...completed()]).when(withdraw()).then([withdrawn]));

    it('leaves the reopened upload completable again and abortable', () => {
      spec.given([initiated, ...parts, ...completed(), withdrawn]).when(completeOne).then(completed());
      spec.given([initiated, ...parts, ...completed(), withdrawn]).when(abort).then([{ type: 'MultipartUploadAborted', data: { bucket: 'media', uploadId: 'u1', abortedAt: at } }]);
    });

    it('is idempotent once withdrawn', () => spec.given([initiated, ...parts, ...completed(), withdrawn]).when(withdraw()).then([]));

    it('refuses to withdraw another completion, or an aborted or unknown upload, with NoSuchUpload', () => {
      spec.given([initiated, ...parts, ...completed()]).when(withdraw('v2')).thenThrows(MetadataError, hasCode('NoSuchUpload'));
      spec.given([initiated, { type: 'MultipartUploadAborted', data: { bucket: 'media', uploadId: 'u1', abortedAt: at } }]).when(withdraw()).thenThrows(MetadataError, hasCode('NoSuchUpload'));
      spec.given([]).when(withdraw()).thenThrows(MetadataError, hasCode('NoSuchUpload'));
      spec.given([initiated, ...parts, ...completed()]).when({ ...withdraw(), bucket: 'other' }).thenThrows(MetadataError, hasCode('NoSuchUpload'));
    });
  });

  describe('bucket lives', () => {
    const parts = [partUploaded(1, ETAG_ONE, 5 * MiB), partUploaded(2, ETAG_TWO, 1)];
    const both = [{ partNumber: 1, etag: ETAG_ONE }, { partNumber: 2, etag: ETAG_TWO }];
    const completedIn = (history: readonly (MultipartUploadInitiated | MultipartPartUploaded)[]) =>
      multipartUploadDecider.decide(complete(both), history.reduce(multipartUploadDecider.evolve, multipartUploadDecider.initialState()));

    it('records the life the upload was initiated in', () =>
      spec.given([]).when({ ...initiate, incarnation: NEXT_LIFE }).then([{ ...initiated, data: { ...initiated.data, incarnation: NEXT_LIFE } }]));

    it('refuses a part for an upload of an earlier life with NoSuchUpload', () =>
      spec.given([initiated, ...parts]).when({ ...uploadPart(3, ETAG_ONE, 10), incarnation: NEXT_LIFE }).thenThrows(MetadataError, hasCode('NoSuchUpload')));

    it('refuses to complete an upload of an earlier life with NoSuchUpload', () =>
      spec.given([initiated, ...parts]).when({ ...complete(both), incarnation: NEXT_LIFE }).thenThrows(MetadataError, hasCode('NoSuchUpload')));

    it('refuses a retried completion from another life with NoSuchUpload, and accepts it from its own', () => {
      const done = completedIn([initiated, ...parts]);
      spec.given([initiated, ...parts, ...done]).when(complete(both)).then([]);
      spec.given([initiated, ...parts, ...done]).when({ ...complete(both), incarnation: NEXT_LIFE }).thenThrows(MetadataError, hasCode('NoSuchUpload'));
    });

    it('still aborts an upload of an earlier life', () =>
      spec.given([initiated]).when(abort).then([{ type: 'MultipartUploadAborted', data: { bucket: 'media', uploadId: 'u1', abortedAt: at } }]));

    it('takes parts and completions of any life for an upload initiated before lives were recorded', () => {
      spec.given([legacyInitiated]).when({ ...uploadPart(1, ETAG_ONE, 5 * MiB), incarnation: NEXT_LIFE }).then([parts[0]]);
      const done = completedIn([legacyInitiated, ...parts]);
      expect(done.map((e) => e.type)).toEqual(['MultipartUploadCompleted']);
      spec.given([legacyInitiated, ...parts]).when({ ...complete(both), incarnation: NEXT_LIFE }).then(done);
      spec.given([legacyInitiated, ...parts, ...done]).when({ ...complete(both), incarnation: NEXT_LIFE }).then([]);
    });
  });

  describe('AbortMultipartUpload', () => {
    it('aborts an open upload', () =>
      spec.given([initiated]).when(abort).then([{ type: 'MultipartUploadAborted', data: { bucket: 'media', uploadId: 'u1', abortedAt: at } }]));

    it('refuses to abort twice, or an unknown upload, with NoSuchUpload', () => {
      spec.given([initiated, { type: 'MultipartUploadAborted', data: { bucket: 'media', uploadId: 'u1', abortedAt: at } }]).when(abort).thenThrows(MetadataError, hasCode('NoSuchUpload'));
      spec.given([]).when(abort).thenThrows(MetadataError, hasCode('NoSuchUpload'));
    });

    it('refuses an upload addressed through another bucket', () =>
      spec.given([initiated]).when({ ...abort, bucket: 'other' }).thenThrows(MetadataError, hasCode('NoSuchUpload')));
  });
});
