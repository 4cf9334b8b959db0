/**
 * Stable codes of the metadata service's errors. S3's code where S3 has one (access maps them to
 * HTTP statuses and the S3 XML body); Cairn's own codes are upper snake case.
 */
export const MetadataErrorCodes = {
  BucketAlreadyExists: 'BucketAlreadyExists',
  BucketAlreadyOwnedByYou: 'BucketAlreadyOwnedByYou',
  BucketNotEmpty: 'BucketNotEmpty',
  NoSuchBucket: 'NoSuchBucket',
  InvalidBucketName: 'InvalidBucketName',
  IllegalVersioningConfiguration: 'IllegalVersioningConfigurationException',
  InvalidStorageClass: 'InvalidStorageClass',
  InvalidTag: 'InvalidTag',
  MalformedPolicy: 'MalformedPolicy',
  NoSuchBucketPolicy: 'NoSuchBucketPolicy',
  NoSuchCORSConfiguration: 'NoSuchCORSConfiguration',
  NoSuchLifecycleConfiguration: 'NoSuchLifecycleConfiguration',
  OperationAborted: 'OperationAborted',
  NoSuchKey: 'NoSuchKey',
  NoSuchVersion: 'NoSuchVersion',
  KeyTooLong: 'KeyTooLongError',
  MetadataTooLarge: 'MetadataTooLarge',
  EntityTooLarge: 'EntityTooLarge',
  EntityTooSmall: 'EntityTooSmall',
  PreconditionFailed: 'PreconditionFailed',
  MethodNotAllowed: 'MethodNotAllowed',
  InvalidRequest: 'InvalidRequest',
  InvalidArgument: 'InvalidArgument',
  MalformedXML: 'MalformedXML',
  NoSuchUpload: 'NoSuchUpload',
  InvalidPart: 'InvalidPart',
  InvalidPartOrder: 'InvalidPartOrder',
  BadDigest: 'BadDigest',
  InvalidAccessKeyId: 'InvalidAccessKeyId',
  AccessKeyAlreadyExists: 'ACCESS_KEY_ALREADY_EXISTS',
  NodeAlreadyJoined: 'NODE_ALREADY_JOINED',
  NoSuchNode: 'NODE_NOT_FOUND',
  /** A replicated change arrived before an earlier change of the same key from the same region. */
  OutOfOrder: 'REPLICATION_OUT_OF_ORDER',
} as const;
export type MetadataErrorCode = (typeof MetadataErrorCodes)[keyof typeof MetadataErrorCodes];
