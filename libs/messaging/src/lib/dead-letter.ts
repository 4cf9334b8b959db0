import { subjectsFor, type StreamKind } from '@cairn/protocol';
import { headers as natsHeaders, type JetStreamClient, type JsMsg } from 'nats';

export const DEAD_LETTER_ERROR_HEADER = 'Cairn-Dead-Letter-Error';
export const DEAD_LETTER_SUBJECT_HEADER = 'Cairn-Original-Subject';
export const DEAD_LETTER_SEQUENCE_HEADER = 'Cairn-Original-Sequence';
export const DEAD_LETTER_DELIVERIES_HEADER = 'Cairn-Deliveries';
const MAX_REASON_CHARS = 1024;

/**
 * Copies a message that will not be processed to `dlq.<stream>.<consumer>` with why and where it
 * came from, keeping its own headers. Idempotent per (stream, sequence, consumer), so parking the
 * same message twice stores it once. The caller terminates the original afterwards.
 */
export async function publishDeadLetter(
  js: JetStreamClient,
  namespace: string,
  stream: StreamKind,
  consumer: string,
  msg: JsMsg,
  reason: string,
  deliveries: number,
): Promise<void> {
  const h = natsHeaders();
  for (const [key, values] of msg.headers ?? []) for (const v of values) h.append(key, v);
  h.set(DEAD_LETTER_ERROR_HEADER, reason.slice(0, MAX_REASON_CHARS).replace(/[\r\n]+/g, ' '));
  h.set(DEAD_LETTER_SUBJECT_HEADER, msg.subject);
  h.set(DEAD_LETTER_SEQUENCE_HEADER, String(msg.seq));
  h.set(DEAD_LETTER_DELIVERIES_HEADER, String(deliveries));
  await js.publish(subjectsFor(namespace).deadLetter(stream, consumer), msg.data, {
    headers: h,
    msgID: `dlq-${stream}-${msg.seq}-${consumer}`,
  });
}
