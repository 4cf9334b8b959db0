import type { JetStreamManager } from 'nats';

/**
 * Every message of these streams as one text (bytes read as latin1): what a test greps for a
 * secret or a plaintext marker that must never reach the event log.
 */
export async function rawStreamsText(jsm: JetStreamManager, streams: readonly string[]): Promise<string> {
  const texts: string[] = [];
  for (const stream of streams) {
    const info = await jsm.streams.info(stream);
    for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
      const message = await jsm.streams.getMessage(stream, { seq }).catch(() => undefined);
      if (message) texts.push(Buffer.from(message.data).toString('latin1'));
    }
  }
  return texts.join('\n');
}
