import type { JetStreamManager, SeqMsgRequest, StoredMsg } from 'nats';

/**
 * The stream's first message at or after `fromSequence` on `subject` (wildcards allowed), by
 * message-get: no consumer to create or clean up. Null when there is none.
 */
export async function nextMessageOnSubject(jsm: JetStreamManager, stream: string, subject: string, fromSequence: number): Promise<StoredMsg | null> {
  try {
    // The server's message-get takes next_by_subj (nats-server 2.9+); the client's type omits it.
    return await jsm.streams.getMessage(stream, { seq: fromSequence, next_by_subj: subject } as unknown as SeqMsgRequest);
  } catch (error) {
    const e = error as { code?: string; message?: string; api_error?: { code?: number } };
    if (e?.code === '404' || e?.api_error?.code === 404 || /no message found/i.test(String(e?.message ?? ''))) return null;
    throw error;
  }
}

/** The stream's messages on `subject`, in order, from `fromSequence` up to (not including) `beforeSequence`. */
export async function* messagesOnSubject(
  jsm: JetStreamManager,
  stream: string,
  subject: string,
  { fromSequence = 1, beforeSequence = Number.POSITIVE_INFINITY }: { readonly fromSequence?: number; readonly beforeSequence?: number } = {},
): AsyncGenerator<StoredMsg> {
  for (let next = fromSequence; ; ) {
    const m = await nextMessageOnSubject(jsm, stream, subject, next);
    if (m === null || m.seq >= beforeSequence) return;
    yield m;
    next = m.seq + 1;
  }
}
