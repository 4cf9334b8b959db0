/** S3's protocol limits, shared by routing, parsing and the handlers. */
export const MAX_KEY_LENGTH_BYTES = 1024;
export const MIN_PART_NUMBER = 1;
export const MAX_PART_NUMBER = 10_000;
export const MAX_DELETE_OBJECTS = 1_000;
export const MAX_OBJECT_TAGS = 10;
export const MAX_BUCKET_TAGS = 50;
export const MAX_TAG_KEY_LENGTH_CHARS = 128;
export const MAX_TAG_VALUE_LENGTH_CHARS = 256;
/** Largest body of a single PutObject / UploadPart: 5 GiB. */
export const MAX_SINGLE_PUT_SIZE_BYTES = 5 * 1024 * 1024 * 1024;
/** Every part but the last must be at least 5 MiB. */
export const MIN_MULTIPART_PART_SIZE_BYTES = 5 * 1024 * 1024;
export const DEFAULT_MAX_KEYS = 1_000;
