import { bucketNameProblem, MetadataErrorCodes } from '@cairn/protocol';
import { MetadataError } from '../shared/metadata.errors';

export function validateBucketName(name: string): void {
  const problem = bucketNameProblem(name);
  if (problem !== null) throw new MetadataError(MetadataErrorCodes.InvalidBucketName, `bucket name "${name}" ${problem}`, { bucket: name });
}
