import {
  MetadataErrorCodes,
  MetadataLimits,
  UPLOAD_CHECKSUM_TYPES,
  type Checksums,
  type ChunkRef,
  type CompletedPart,
  type MultipartPartUploaded,
  type MultipartUploadCompleted,
  type MultipartUploadInitiated,
  type RequestedPart,
  type UploadChecksum,
} from '@cairn/protocol';
import { assertNever, type Decider } from '@cairn/eventing';
import { MetadataError } from '../shared/metadata.errors';
import {
  isMd5Hex,
  isSha256Hex,
  normalizeEtag,
  requireText,
  validateChunks,
  validateContentHeaders,
  validateObjectKey,
  validateStorageClass,
  validateTags,
  validateUserMetadata,
} from '../shared/validation';
import { multipartEtag } from './multipart-etag';
import type { MultipartUploadCommand } from './multipart-upload.commands';
import type { MultipartUploadEvent } from './multipart-upload.events';
import { aclOfWrite } from '../object-key/object-acl';
import { UploadedParts } from './uploaded-parts';

/** A part as MultipartPartUploaded records it. */
export type UploadedPart = Omit<MultipartPartUploaded['data'], 'bucket' | 'uploadId'>;

interface Completion {
  readonly versionId: string;
  readonly parts: readonly RequestedPart[];
  /** The completion event as appended: a retried completion puts the same version. */
  readonly completed: MultipartUploadCompleted['data'];
}

export interface KnownUpload {
  readonly status: 'open' | 'completed' | 'aborted';
  readonly bucket: string;
  readonly key: string;
  readonly keyId: string;
  readonly uploadId: string;
  /** As initiated: a withdrawn completion carries it so projections can restore the upload. */
  readonly initiated: MultipartUploadInitiated['data'];
  /** By part number; a re-uploaded part replaces the earlier one. Folding a part is O(1). */
  readonly parts: UploadedParts<UploadedPart>;
  readonly completion: Completion | null;
}

export type MultipartUploadState = { readonly status: 'absent' } | KnownUpload;

/**
 * One multipart upload. Completion freezes the parts into one version's data (etag, size, chunks
 * re-based to object offsets); the shell then puts that version on the key's own aggregate.
 */
export const multipartUploadDecider: Decider<MultipartUploadCommand, MultipartUploadEvent, MultipartUploadState> = {
  initialState: () => ({ status: 'absent' }),

  decide(command, state) {
    switch (command.type) {
      case 'InitiateMultipartUpload': {
        if (state.status !== 'absent') {
          throw new MetadataError(MetadataErrorCodes.InvalidArgument, `upload id ${command.uploadId} is already in use`);
        }
        requireText(command.bucket, 'the bucket');
        requireText(command.uploadId, 'the upload id');
        requireText(command.owner, 'the owner');
        validateObjectKey(command.key);
        if (!isSha256Hex(command.keyId)) throw new MetadataError(MetadataErrorCodes.InvalidArgument, `key id "${command.keyId}" is not SHA-256 hex`);
        validateStorageClass(command.storageClass);
        validateUserMetadata(command.userMetadata);
        const contentHeaders = command.contentHeaders ?? {};
        validateContentHeaders(contentHeaders);
        const tags = command.tags ?? [];
        validateTags(tags, MetadataLimits.objectTagsMax);
        if (command.checksum !== undefined) validateUploadChecksum(command.checksum);
        return [
          {
            type: 'MultipartUploadInitiated',
            data: {
              bucket: command.bucket,
              key: command.key,
              keyId: command.keyId,
              uploadId: command.uploadId,
              owner: command.owner,
              initiatedAt: command.initiatedAt,
              contentType: command.contentType,
              userMetadata: command.userMetadata,
              storageClass: command.storageClass,
              tags,
              incarnation: command.incarnation,
              contentHeaders,
              ...(command.checksum === undefined ? {} : { checksum: command.checksum }),
              ...(command.encryption === undefined ? {} : { encryption: command.encryption }),
              ...(command.retention === undefined ? {} : { retention: command.retention }),
              ...(command.legalHold === true ? { legalHold: true } : {}),
              ...aclOfWrite(command),
            },
          },
        ];
      }
      case 'UploadPart': {
        requireOpen(state, command.bucket, command.uploadId, command.incarnation);
        validatePartNumber(command.partNumber);
        if (!isMd5Hex(command.etag)) throw new MetadataError(MetadataErrorCodes.InvalidArgument, `part etag "${command.etag}" is not MD5 hex`);
        if (command.sizeBytes > MetadataLimits.partSizeMaxBytes) {
          throw new MetadataError(MetadataErrorCodes.EntityTooLarge, `a part is at most ${MetadataLimits.partSizeMaxBytes} bytes`);
        }
        validateChunks(command.chunks, command.sizeBytes);
        return [
          {
            type: 'MultipartPartUploaded',
            data: {
              bucket: command.bucket,
              uploadId: command.uploadId,
              partNumber: command.partNumber,
              etag: command.etag,
              sizeBytes: command.sizeBytes,
              checksums: command.checksums,
              chunks: command.chunks,
              lastModified: command.lastModified,
            },
          },
        ];
      }
      case 'CompleteMultipartUpload': {
        if (state.status === 'completed' && isSameCompletion(state.completion, command.versionId, command.parts)) {
          // A retry of the completion done: only from the life the upload was initiated in.
          requireSameLife(state, command.uploadId, command.incarnation);
          return [];
        }
        const open = requireOpen(state, command.bucket, command.uploadId, command.incarnation);
        requireText(command.versionId, 'the version id');
        const parts = validateCompletion(open.parts, command.parts);
        const chunks: ChunkRef[] = [];
        let sizeBytes = 0;
        for (const part of parts) {
          for (const chunk of part.chunks) chunks.push({ ...chunk, offsetBytes: sizeBytes + chunk.offsetBytes });
          sizeBytes += part.sizeBytes;
        }
        const completed: CompletedPart[] = parts.map((p) => ({ partNumber: p.partNumber, etag: p.etag, sizeBytes: p.sizeBytes }));
        return [
          {
            type: 'MultipartUploadCompleted',
            data: {
              bucket: open.bucket,
              key: open.key,
              keyId: open.keyId,
              uploadId: open.uploadId,
              versionId: command.versionId,
              etag: multipartEtag(parts.map((p) => p.etag)),
              sizeBytes,
              chunks,
              parts: completed,
              completedAt: command.completedAt,
            },
          },
        ];
      }
      case 'WithdrawUploadCompletion': {
        // Already withdrawn (a retried withdrawal): nothing more. Another completion in force is
        // not this one to withdraw; a completion of another version id is a newer attempt.
        if (state.status === 'open' && state.bucket === command.bucket) return [];
        if (state.status !== 'completed' || state.bucket !== command.bucket || state.completion?.versionId !== command.versionId) {
          throw new MetadataError(MetadataErrorCodes.NoSuchUpload, `upload ${command.uploadId} has no completion ${command.versionId} to withdraw`, {
            uploadId: command.uploadId,
          });
        }
        const parts = state.parts
          .inOrder()
          .map(({ partNumber, etag, sizeBytes, checksums, chunks, lastModified }) => ({ partNumber, etag, sizeBytes, checksums, chunks, lastModified }));
        return [
          {
            type: 'MultipartUploadCompletionWithdrawn',
            data: { bucket: command.bucket, uploadId: command.uploadId, versionId: command.versionId, withdrawnAt: command.withdrawnAt, upload: state.initiated, parts },
          },
        ];
      }
      case 'AbortMultipartUpload':
        requireOpen(state, command.bucket, command.uploadId);
        return [{ type: 'MultipartUploadAborted', data: { bucket: command.bucket, uploadId: command.uploadId, abortedAt: command.abortedAt } }];
      default:
        return assertNever(command, 'multipart upload command');
    }
  },

  evolve(state, event) {
    if (event.type === 'MultipartUploadInitiated') {
      const { bucket, key, keyId, uploadId } = event.data;
      return { status: 'open', bucket, key, keyId, uploadId, initiated: event.data, parts: UploadedParts.empty(), completion: null };
    }
    if (state.status === 'absent') throw new Error(`${event.type} for upload ${event.data.uploadId}, which was never initiated`);
    switch (event.type) {
      case 'MultipartPartUploaded': {
        const { partNumber, etag, sizeBytes, checksums, chunks, lastModified } = event.data;
        return { ...state, parts: state.parts.with({ partNumber, etag, sizeBytes, checksums, chunks, lastModified }) };
      }
      case 'MultipartUploadCompleted':
        return {
          ...state,
          status: 'completed',
          completion: {
            versionId: event.data.versionId,
            parts: event.data.parts.map((p) => ({ partNumber: p.partNumber, etag: p.etag })),
            completed: event.data,
          },
        };
      case 'MultipartUploadCompletionWithdrawn':
        return { ...state, status: 'open', completion: null };
      case 'MultipartUploadAborted':
        return { ...state, status: 'aborted' };
      default:
        return assertNever(event, 'multipart upload event');
    }
  },
};

/**
 * S3 answers NoSuchUpload for unknown, completed and aborted uploads alike — and for an upload of
 * an earlier life of a bucket name deleted and created again (`incarnation` is the life the shell
 * read; abort passes none: ending an upload of any life is harmless).
 */
function requireOpen(state: MultipartUploadState, bucket: string, uploadId: string, incarnation?: number): KnownUpload {
  if (state.status !== 'open' || state.bucket !== bucket) {
    throw new MetadataError(MetadataErrorCodes.NoSuchUpload, `upload ${uploadId} does not exist or is no longer in progress`, { uploadId });
  }
  if (incarnation !== undefined) requireSameLife(state, uploadId, incarnation);
  return state;
}

/** The upload was initiated in the bucket life the command read; one initiated before lives were recorded belongs to any. */
function requireSameLife(upload: KnownUpload, uploadId: string, incarnation: number): void {
  const initiatedIn = upload.initiated.incarnation;
  if (initiatedIn !== undefined && initiatedIn !== incarnation) {
    throw new MetadataError(MetadataErrorCodes.NoSuchUpload, `upload ${uploadId} belongs to an earlier life of bucket ${upload.bucket}`, { uploadId });
  }
}

function validatePartNumber(partNumber: number): void {
  if (!Number.isInteger(partNumber) || partNumber < MetadataLimits.partNumberMin || partNumber > MetadataLimits.partNumberMax) {
    throw new MetadataError(
      MetadataErrorCodes.InvalidArgument,
      `part number must be an integer from ${MetadataLimits.partNumberMin} to ${MetadataLimits.partNumberMax}`,
      { partNumber },
    );
  }
}

/** S3's checks, in S3's order: a list, ascending, every part known by number and etag, sizes. */
function validateUploadChecksum(checksum: UploadChecksum): void {
  const types = (UPLOAD_CHECKSUM_TYPES as Readonly<Record<string, readonly string[] | undefined>>)[checksum.algorithm];
  if (!types) throw new MetadataError(MetadataErrorCodes.InvalidArgument, `unknown checksum algorithm "${String(checksum.algorithm)}"`);
  if (!types.includes(checksum.type)) {
    throw new MetadataError(MetadataErrorCodes.InvalidArgument, `the ${checksum.algorithm} checksum cannot be of type ${String(checksum.type)}`);
  }
}

function validateCompletion(uploaded: UploadedParts<UploadedPart>, requested: readonly RequestedPart[]): UploadedPart[] {
  if (requested.length === 0) throw new MetadataError(MetadataErrorCodes.MalformedXML, 'the part list is empty');
  for (let i = 1; i < requested.length; i++) {
    if (requested[i].partNumber <= requested[i - 1].partNumber) {
      throw new MetadataError(MetadataErrorCodes.InvalidPartOrder, 'the part list is not in ascending order of part number', {
        partNumber: requested[i].partNumber,
      });
    }
  }
  const parts = requested.map((r) => {
    const part = uploaded.get(r.partNumber);
    if (!part || part.etag !== normalizeEtag(r.etag)) {
      throw new MetadataError(MetadataErrorCodes.InvalidPart, `part ${r.partNumber} was not uploaded or its etag does not match`, {
        partNumber: r.partNumber,
      });
    }
    for (const [algorithm, value] of Object.entries(r.checksums ?? {})) {
      if (value !== undefined && part.checksums[algorithm as keyof Checksums] !== value) {
        throw new MetadataError(MetadataErrorCodes.InvalidPart, `part ${r.partNumber} was not uploaded with that ${algorithm} checksum`, { partNumber: r.partNumber });
      }
    }
    return part;
  });
  parts.slice(0, -1).forEach((part) => {
    if (part.sizeBytes < MetadataLimits.partSizeMinBytes) {
      throw new MetadataError(MetadataErrorCodes.EntityTooSmall, `part ${part.partNumber} is smaller than ${MetadataLimits.partSizeMinBytes} bytes`, {
        partNumber: part.partNumber,
        sizeBytes: part.sizeBytes,
      });
    }
  });
  return parts;
}

function isSameCompletion(completion: Completion | null, versionId: string, parts: readonly RequestedPart[]): boolean {
  if (!completion || completion.versionId !== versionId || completion.parts.length !== parts.length) return false;
  return completion.parts.every((p, i) => p.partNumber === parts[i].partNumber && p.etag === normalizeEtag(parts[i].etag));
}
