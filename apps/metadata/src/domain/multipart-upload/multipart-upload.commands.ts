export type {
  AbortMultipartUpload,
  CompleteMultipartUpload,
  InitiateMultipartUpload,
  MultipartUploadCommand,
  RequestedPart,
  UploadPart,
} from '@cairn/protocol';
