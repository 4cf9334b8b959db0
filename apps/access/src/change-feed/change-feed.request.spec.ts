import { S3Error } from '../s3';
import { isChangeFeedPath, parseChangeFeedRequest, type ChangeFeedRequestInput } from './change-feed.request';

function input(path: string, query: Record<string, string> = {}, headers: Record<string, string> = {}, method = 'GET'): ChangeFeedRequestInput {
  return { method, path, query: (name) => query[name], header: (name) => headers[name] };
}

function refusal(attempt: () => unknown): { code: string; message: string } | undefined {
  try {
    attempt();
    return undefined;
  } catch (error) {
    if (error instanceof S3Error) return { code: error.code, message: error.message };
    throw error;
  }
}

describe('change feed request', () => {
  it('recognises its path only under /_cairn/changes/', () => {
    expect(isChangeFeedPath('/_cairn/changes/photos')).toBe(true);
    expect(isChangeFeedPath('/_cairn/admin/tokens')).toBe(false);
    expect(isChangeFeedPath('/photos/_cairn/changes/x')).toBe(false);
  });

  it('defaults to a JSON page of 100 from the beginning, answered at once', () => {
    expect(parseChangeFeedRequest(input('/_cairn/changes/photos.eu'))).toEqual({ bucket: 'photos.eu', start: { after: 0 }, limit: 100, waitMs: 0, sse: false });
  });

  it('takes a cursor, now, a limit and a wait', () => {
    expect(parseChangeFeedRequest(input('/_cairn/changes/photos', { cursor: '42', limit: '1000', wait: '60' }))).toEqual({ bucket: 'photos', start: { after: 42 }, limit: 1000, waitMs: 60_000, sse: false });
    expect(parseChangeFeedRequest(input('/_cairn/changes/photos', { cursor: 'now' })).start).toEqual({ now: true });
  });

  it('serves SSE to Accept: text/event-stream, resuming from Last-Event-ID over cursor, with a heartbeat every 15 s by default', () => {
    const sse = parseChangeFeedRequest(input('/_cairn/changes/photos', { cursor: '5' }, { accept: 'text/html, text/event-stream;q=0.9', 'last-event-id': '17' }));
    expect(sse).toEqual({ bucket: 'photos', start: { after: 17 }, limit: 100, waitMs: 15_000, sse: true });
    // Last-Event-ID means nothing to a JSON request.
    expect(parseChangeFeedRequest(input('/_cairn/changes/photos', { cursor: '5' }, { 'last-event-id': '17' })).start).toEqual({ after: 5 });
  });

  it.each<[string, ChangeFeedRequestInput, string]>([
    ['a cursor that is not a number', input('/_cairn/changes/photos', { cursor: 'abc' }), 'InvalidArgument'],
    ['a negative cursor', input('/_cairn/changes/photos', { cursor: '-1' }), 'InvalidArgument'],
    ['a bad Last-Event-ID', input('/_cairn/changes/photos', {}, { accept: 'text/event-stream', 'last-event-id': 'x' }), 'InvalidArgument'],
    ['a limit of 0', input('/_cairn/changes/photos', { limit: '0' }), 'InvalidArgument'],
    ['a limit over 1000', input('/_cairn/changes/photos', { limit: '1001' }), 'InvalidArgument'],
    ['a wait over 60 s', input('/_cairn/changes/photos', { wait: '61' }), 'InvalidArgument'],
    ['an SSE heartbeat of 0', input('/_cairn/changes/photos', { wait: '0' }, { accept: 'text/event-stream' }), 'InvalidArgument'],
    ['a fractional wait', input('/_cairn/changes/photos', { wait: '1.5' }), 'InvalidArgument'],
    ['no bucket', input('/_cairn/changes/'), 'InvalidBucketName'],
    ['a bucket name that could be a subject wildcard', input('/_cairn/changes/>'), 'InvalidBucketName'],
    ['a nested path', input('/_cairn/changes/photos/x'), 'InvalidBucketName'],
    ['another method', input('/_cairn/changes/photos', {}, {}, 'DELETE'), 'MethodNotAllowed'],
  ])('refuses %s with an S3 client error', (_, request, code) => {
    expect(refusal(() => parseChangeFeedRequest(request))?.code).toBe(code);
  });
});
