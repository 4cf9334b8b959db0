/** Shared with the gateway's direct reads (@cairn/key-reads). */
export { validateBucketName } from '@cairn/key-reads';
