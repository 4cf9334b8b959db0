import { S3_ERROR_CODES, type S3ErrorCode } from './s3-error-codes';
import { XML_DECLARATION, xmlElement } from '../xml/xml-text';

const HTTP_NOT_MODIFIED = 304;

/**
 * An S3 protocol error: a stable S3 code, its HTTP status and a message, plus the extra elements
 * S3 puts in some error bodies (e.g. `StringToSign` for SignatureDoesNotMatch, `ActualObjectSize`
 * for InvalidRange), in the order given.
 */
export class S3Error extends Error {
  readonly httpStatus: number;

  constructor(
    readonly code: S3ErrorCode,
    message?: string,
    readonly details: Readonly<Record<string, string>> = {},
  ) {
    super(message ?? S3_ERROR_CODES[code].message);
    this.name = 'S3Error';
    this.httpStatus = S3_ERROR_CODES[code].httpStatus;
  }

  /** 304 answers and answers to HEAD carry no body. */
  hasBodyFor(method: string): boolean {
    return this.httpStatus !== HTTP_NOT_MODIFIED && method.toUpperCase() !== 'HEAD';
  }
}

export function isS3Error(error: unknown): error is S3Error {
  return error instanceof S3Error;
}

export interface S3ErrorContext {
  /** The path the request named, e.g. `/bucket/key`. */
  readonly resource?: string;
  readonly requestId: string;
  readonly hostId?: string;
}

/** The XML body S3 sends with an error; `<Error>` carries no namespace. */
export function renderS3ErrorXml(error: S3Error, context: S3ErrorContext): string {
  let body = xmlElement('Code', error.code) + xmlElement('Message', error.message);
  for (const [name, value] of Object.entries(error.details)) body += xmlElement(name, value);
  if (context.resource !== undefined) body += xmlElement('Resource', context.resource);
  body += xmlElement('RequestId', context.requestId);
  if (context.hostId !== undefined) body += xmlElement('HostId', context.hostId);
  return `${XML_DECLARATION}<Error>${body}</Error>`;
}

/** Maps anything thrown while serving a request to the S3Error the client should see. */
export function toS3Error(error: unknown): S3Error {
  return isS3Error(error) ? error : new S3Error('InternalError');
}
