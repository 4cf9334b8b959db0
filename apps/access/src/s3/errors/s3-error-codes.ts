/** Every S3 error code the gateway answers with, its HTTP status and S3's default message. */
export const S3_ERROR_CODES = {
  AccessDenied: { httpStatus: 403, message: 'Access Denied' },
  AccessControlListNotSupported: { httpStatus: 400, message: 'The bucket does not allow ACLs' },
  InvalidBucketAclWithObjectOwnership: { httpStatus: 400, message: "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting" },
  OwnershipControlsNotFoundError: { httpStatus: 404, message: 'The bucket ownership controls were not found' },
  NoSuchPublicAccessBlockConfiguration: { httpStatus: 404, message: 'The public access block configuration was not found' },
  UnexpectedContent: { httpStatus: 400, message: 'This request does not support content' },
  UnresolvableGrantByEmailAddress: { httpStatus: 400, message: 'The email address you provided does not match any account on record.' },
  AuthorizationHeaderMalformed: { httpStatus: 400, message: 'The authorization header you provided is invalid.' },
  AuthorizationQueryParametersError: {
    httpStatus: 400,
    message: 'Error parsing the X-Amz-Credential parameter; the query parameters are malformed.',
  },
  BadDigest: { httpStatus: 400, message: 'The Content-MD5 or checksum value that you specified did not match what the server received.' },
  BucketAlreadyExists: {
    httpStatus: 409,
    message: 'The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.',
  },
  BucketAlreadyOwnedByYou: {
    httpStatus: 409,
    message: 'Your previous request to create the named bucket succeeded and you already own it.',
  },
  BucketNotEmpty: { httpStatus: 409, message: 'The bucket you tried to delete is not empty' },
  EntityTooLarge: { httpStatus: 400, message: 'Your proposed upload exceeds the maximum allowed object size.' },
  EntityTooSmall: { httpStatus: 400, message: 'Your proposed upload is smaller than the minimum allowed object size.' },
  IllegalLocationConstraintException: {
    httpStatus: 400,
    message: 'The specified location-constraint is not valid for this endpoint.',
  },
  IllegalVersioningConfigurationException: {
    httpStatus: 400,
    message: 'The Versioning element must be specified',
  },
  IncompleteBody: { httpStatus: 400, message: 'You did not provide the number of bytes specified by the Content-Length HTTP header.' },
  InternalError: { httpStatus: 500, message: 'We encountered an internal error. Please try again.' },
  InvalidAccessKeyId: { httpStatus: 403, message: 'The AWS Access Key Id you provided does not exist in our records.' },
  InvalidArgument: { httpStatus: 400, message: 'Invalid Argument' },
  InvalidBucketName: { httpStatus: 400, message: 'The specified bucket is not valid.' },
  InvalidBucketState: { httpStatus: 409, message: 'The request is not valid with the current state of the bucket.' },
  InvalidDigest: { httpStatus: 400, message: 'The Content-MD5 or checksum value you specified is not valid.' },
  InvalidLocationConstraint: { httpStatus: 400, message: 'The specified location constraint is not valid.' },
  InvalidObjectState: { httpStatus: 403, message: 'The operation is not valid for the current state of the object.' },
  InvalidPart: {
    httpStatus: 400,
    message: "One or more of the specified parts could not be found. The part might not have been uploaded, or the specified entity tag might not have matched the part's entity tag.",
  },
  InvalidPartNumber: { httpStatus: 416, message: 'The requested partnumber is not satisfiable' },
  InvalidPartOrder: { httpStatus: 400, message: 'The list of parts was not in ascending order. The parts list must be specified in order by part number.' },
  InvalidRange: { httpStatus: 416, message: 'The requested range is not satisfiable' },
  InvalidRequest: { httpStatus: 400, message: 'Invalid Request' },
  InvalidStorageClass: { httpStatus: 400, message: 'The storage class you specified is not valid' },
  InvalidTag: { httpStatus: 400, message: 'The tag provided was not a valid tag.' },
  InvalidURI: { httpStatus: 400, message: "Couldn't parse the specified URI." },
  KeyTooLongError: { httpStatus: 400, message: 'Your key is too long' },
  MalformedPolicy: { httpStatus: 400, message: 'Policies must be valid JSON and the first byte must be \'{\'' },
  NoSuchBucketPolicy: { httpStatus: 404, message: 'The bucket policy does not exist' },
  NoSuchCORSConfiguration: { httpStatus: 404, message: 'The CORS configuration does not exist' },
  NoSuchLifecycleConfiguration: { httpStatus: 404, message: 'The lifecycle configuration does not exist' },
  /** A preflight (OPTIONS) the bucket's CORS configuration does not allow, or a bucket without one. */
  CORSResponse: {
    httpStatus: 403,
    message:
      "This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.",
  },
  /** A preflight without Origin or Access-Control-Request-Method. */
  BadRequest: { httpStatus: 400, message: 'Insufficient information. Origin request header needed.' },
  MalformedACLError: { httpStatus: 400, message: 'The XML you provided was not well-formed or did not validate against our published schema.' },
  MalformedXML: {
    httpStatus: 400,
    message: 'The XML you provided was not well-formed or did not validate against our published schema',
  },
  /** POST Object: a body that is not well-formed multipart/form-data. */
  MalformedPOSTRequest: { httpStatus: 400, message: 'The body of your POST request is not well-formed multipart/form-data.' },
  /** POST Object: a policy document that cannot be decoded or parsed. */
  InvalidPolicyDocument: { httpStatus: 400, message: 'The content of the form does not meet the conditions specified in the policy document.' },
  /** POST Object: no file field, or more than one. */
  IncorrectNumberOfFilesInPostRequest: { httpStatus: 400, message: 'POST requires exactly one file upload per request.' },
  MaxMessageLengthExceeded: { httpStatus: 400, message: 'Your request was too big.' },
  MetadataTooLarge: { httpStatus: 400, message: 'Your metadata headers exceed the maximum allowed metadata size.' },
  MethodNotAllowed: { httpStatus: 405, message: 'The specified method is not allowed against this resource.' },
  MissingContentLength: { httpStatus: 411, message: 'You must provide the Content-Length HTTP header.' },
  MissingSecurityHeader: { httpStatus: 400, message: 'Your request is missing a required header.' },
  NoSuchBucket: { httpStatus: 404, message: 'The specified bucket does not exist' },
  NoSuchKey: { httpStatus: 404, message: 'The specified key does not exist.' },
  NoSuchTagSet: { httpStatus: 404, message: 'The TagSet does not exist' },
  NoSuchUpload: {
    httpStatus: 404,
    message: 'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
  },
  NoSuchVersion: { httpStatus: 404, message: 'The specified version does not exist.' },
  InvalidEncryptionAlgorithmError: { httpStatus: 400, message: 'The Encryption request you specified is not valid. Supported value: AES256.' },
  'KMS.NotFoundException': { httpStatus: 400, message: 'Invalid keyId' },
  ServerSideEncryptionConfigurationNotFoundError: { httpStatus: 404, message: 'The server side encryption configuration was not found' },
  ObjectLockConfigurationNotFoundError: { httpStatus: 404, message: 'Object Lock configuration does not exist for this bucket' },
  NoSuchObjectLockConfiguration: { httpStatus: 404, message: 'The specified object does not have a ObjectLock configuration' },
  NotImplemented: { httpStatus: 501, message: 'A header you provided implies functionality that is not implemented' },
  NotModified: { httpStatus: 304, message: 'Not Modified' },
  OperationAborted: { httpStatus: 409, message: 'A conflicting conditional operation is currently in progress against this resource. Please try again.' },
  PreconditionFailed: { httpStatus: 412, message: 'At least one of the pre-conditions you specified did not hold' },
  RequestHeaderSectionTooLarge: {
    httpStatus: 400,
    message: 'The request header and query parameters used to make the request exceed the maximum allowed size.',
  },
  RequestTimeTooSkewed: { httpStatus: 403, message: "The difference between the request time and the server's time is too large." },
  RequestTimeout: {
    httpStatus: 400,
    message: 'Your socket connection to the server was not read from or written to within the timeout period.',
  },
  ServiceUnavailable: { httpStatus: 503, message: 'Please reduce your request rate.' },
  SignatureDoesNotMatch: {
    httpStatus: 403,
    message: 'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
  },
  SlowDown: { httpStatus: 503, message: 'Please reduce your request rate.' },
  TooManyBuckets: { httpStatus: 400, message: 'You have attempted to create more buckets than allowed.' },
  XAmzContentSHA256Mismatch: {
    httpStatus: 400,
    message: "The provided 'x-amz-content-sha256' header does not match what was computed.",
  },
} as const satisfies Readonly<Record<string, { readonly httpStatus: number; readonly message: string }>>;

export type S3ErrorCode = keyof typeof S3_ERROR_CODES;

export function isS3ErrorCode(code: string): code is S3ErrorCode {
  return Object.prototype.hasOwnProperty.call(S3_ERROR_CODES, code);
}
