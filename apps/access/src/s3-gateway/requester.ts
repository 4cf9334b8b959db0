import type { Requester } from '@cairn/protocol';
import type { S3Exchange } from './s3-exchange';

/** The request's access key, for metadata's read-your-writes across regions (absent for anonymous requests). */
export function requesterOf(ex: S3Exchange): Requester {
  return ex.caller.via === 'anonymous' ? {} : { requester: ex.caller.accessKeyId };
}
