export type {
  CompletedPart,
  MultipartPartUploaded,
  MultipartUploadAborted,
  MultipartUploadCompleted,
  MultipartUploadEvent,
  MultipartUploadInitiated,
} from '@cairn/protocol';
