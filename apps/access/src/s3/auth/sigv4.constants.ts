export const SIGV4_ALGORITHM = 'AWS4-HMAC-SHA256';
export const SIGV4_TERMINATOR = 'aws4_request';
export const S3_SERVICE_NAME = 's3';
/** The region a gateway signs for when none is configured (CAIRN_S3_REGION's default), as S3's us-east-1. */
export const DEFAULT_S3_REGION = 'us-east-1';

/** S3 refuses header-signed requests whose time is further than this from the server's clock. */
export const MAX_REQUEST_TIME_SKEW_MS = 15 * 60 * 1000;
/** The longest validity of a presigned URL: 7 days. */
export const MAX_PRESIGNED_EXPIRES_SECONDS = 604_800;
/** A presigned URL lives at least a second (X-Amz-Expires=0 is refused, as S3 refuses it). */
export const MIN_PRESIGNED_EXPIRES_SECONDS = 1;
/** Signing keys are cached per (date, region, service, access key); bounded to stay small. */
export const MAX_SIGNING_KEY_CACHE_ENTRIES = 1_024;
/** A guard against absurd Authorization headers before any parsing. */
export const MAX_AUTHORIZATION_HEADER_LENGTH_BYTES = 8 * 1024;
export const MAX_SIGNED_HEADERS = 64;

export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
export const STREAMING_SIGNED_PAYLOAD = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD';
export const STREAMING_SIGNED_PAYLOAD_TRAILER = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER';
export const STREAMING_UNSIGNED_PAYLOAD_TRAILER = 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';
export const EMPTY_PAYLOAD_SHA256_HEX = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

export const AMZ_ALGORITHM_PARAM = 'X-Amz-Algorithm';
export const AMZ_CREDENTIAL_PARAM = 'X-Amz-Credential';
export const AMZ_DATE_PARAM = 'X-Amz-Date';
export const AMZ_EXPIRES_PARAM = 'X-Amz-Expires';
export const AMZ_SIGNED_HEADERS_PARAM = 'X-Amz-SignedHeaders';
export const AMZ_SIGNATURE_PARAM = 'X-Amz-Signature';
export const AMZ_SECURITY_TOKEN_PARAM = 'X-Amz-Security-Token';
/** The access key of a Signature Version 2 query (`AWSAccessKeyId`, `Signature`, `Expires`), which Cairn refuses as S3's SigV4-only regions do. */
export const SIGV2_ACCESS_KEY_PARAM = 'AWSAccessKeyId';
