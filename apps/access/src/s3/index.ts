// The S3 protocol layer of the access gateway: everything here is independent of metadata,
// storage and messaging, so the gateway's controllers compose it with those services.

export * from './s3-limits';

export { S3_ERROR_CODES, isS3ErrorCode, type S3ErrorCode } from './errors/s3-error-codes';
export { S3Error, isS3Error, renderS3ErrorXml, toS3Error, type S3ErrorContext } from './errors/s3.errors';

export { ACCESS_KEY_LOOKUP, InMemoryAccessKeyLookup, type AccessKeyLookup, type AccessKeyRecord } from './auth/access-key-lookup.port';
export { awsUriEncode } from './auth/aws-uri-encode';
export { buildCanonicalRequest, buildStringToSign, canonicalQueryString, canonicalUri, type HeaderBag } from './auth/canonical-request';
export { SigningKeyCache, deriveSigningKey } from './auth/signing-key';
export { formatAmzDate, parseAmzDate, parseAuthorizationHeader, parsePresignedQuery } from './auth/sigv4-credentials';
export {
  ANONYMOUS_CALLER,
  ANONYMOUS_OWNER,
  SigV4Verifier,
  isAnonymousRequest,
  type AuthenticatedRequest,
  type ChunkSigningContext,
  type PayloadProtection,
  type PostSignatureFields,
  type SigV4VerifierOptions,
  type SignableRequest,
} from './auth/sigv4-verifier';
export * from './auth/sigv4.constants';

export { AwsChunkedDecoder, createAwsChunkedDecoder, type AwsChunkedDecoderOptions, type AwsChunkedMode } from './streaming/aws-chunked-decoder';
export { MAX_CHUNK_LINE_BYTES, MAX_CHUNK_SIZE_BYTES } from './streaming/aws-chunked.constants';

export {
  CHECKSUM_ALGORITHMS,
  CHECKSUM_DIGEST_LENGTH_BYTES,
  checksumHeaderName,
  createDigest,
  parseChecksumAlgorithm,
  type ChecksumAlgorithm,
  type IncrementalDigest,
} from './integrity/checksum-algorithms';
export {
  checksumAlgorithmsFor,
  checksumResponseHeaders,
  decodeStrictBase64,
  parseDeclaredDigests,
  verifyDigests,
  type DeclaredDigests,
} from './integrity/checksum-checker';
export { Crc64Nvme } from './integrity/crc64-nvme';
export { IntegrityHasher, type ComputedDigests, type IntegrityHasherOptions } from './integrity/integrity-hasher';
export { compositeChecksum, md5FromEtag, multipartEtag, singlePartEtag } from './integrity/multipart-etag';

export * from './xml/bucket-results.xml';
export * from './xml/list-results.xml';
export * from './xml/object-results.xml';
export * from './xml/request-bodies.parser';
export * from './xml/access-control.xml';
export { S3_XML_NAMESPACE, escapeXmlText, quoteEtag, s3Timestamp, s3UrlEncode, unquoteEtag } from './xml/xml-text';

export { hasQueryParam, parseRequestTarget, percentDecode, queryValue, type QueryParam, type RequestTarget } from './routing/request-target';
export { S3_OPERATIONS, UNSUPPORTED_SUBRESOURCES, type S3Operation } from './routing/s3-operations';
export { checkKey, parseCopySource, routeS3Request, virtualHostBucket, type CopySource, type RouteInput, type RoutingConfig, type S3Route } from './routing/s3-router';

export {
  assertCopySourcePreconditions,
  assertReadPreconditions,
  assertWritePreconditions,
  copySourcePreconditionsFrom,
  readPreconditionsFrom,
  resolveRange,
} from './conditional/preconditions';
export * from '../domain/conditional-request';
export * from '../domain/byte-range';
export * from '../domain/part-range';
