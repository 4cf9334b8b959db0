import { CairnError, type MetadataErrorCode } from '@cairn/protocol';

/** A refused metadata command or read: its code is stable (the S3 code where S3 has one). */
export class MetadataError extends CairnError {
  constructor(
    override readonly code: MetadataErrorCode,
    message: string,
    details?: Readonly<Record<string, unknown>>,
  ) {
    super(code, message, details);
    this.name = 'MetadataError';
  }
}
