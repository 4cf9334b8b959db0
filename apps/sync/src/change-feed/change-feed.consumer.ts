import type { JetStreamManager } from 'nats';
import { subjectsFor } from '@cairn/protocol';

/**
 * The durable META consumer that fed the change feed before the feeder read META with an ordered
 * consumer (CHANGES itself now holds the feed's position). Left on the server it would only grow
 * its pending count, so the feeder removes it when it starts.
 */
export const LEGACY_CHANGE_FEED_DURABLE = 'sync-change-feed';

export async function removeLegacyChangeFeedConsumer(jsm: JetStreamManager, namespace: string): Promise<void> {
  const s = subjectsFor(namespace);
  try {
    await jsm.consumers.delete(s.streamName('META'), s.durableName(LEGACY_CHANGE_FEED_DURABLE));
  } catch (error) {
    const e = error as { code?: string; api_error?: { err_code?: number } };
    if (e?.code !== '404' && e?.api_error?.err_code !== 10014) throw error;
  }
}
