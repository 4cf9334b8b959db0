import { messagesOnSubject, type NatsConnectionManager } from '@cairn/messaging';
import { bucketToken, subjectsFor, type BackfillView } from '@cairn/protocol';
import type { JetStreamManager, KV } from 'nats';
import { ensureInboundStream, jetStreamManager, type PeerChangeApplier } from './peer-changes';
import type { ReplicatorLog } from './peer-replicator';

const RETRY_DELAY_MS = 1_000;

/**
 * Back-fill of a bucket that became replicated after it had data (or reached this region after its
 * peers wrote to it): every change the peers made to its keys, read again from this region's copy
 * of each peer's META from the beginning, is applied here — once (metadata skips what it has), in
 * order per key. Progress shows per bucket and peer; completion is kept in a JetStream key-value
 * bucket, so a back-fill cut short by a crash runs again at the next start.
 */
export class BackfillCoordinator {
  private readonly runs = new Map<string, BackfillView>();
  private stopped = false;
  private readonly abort = new AbortController();
  private readonly running = new Set<Promise<void>>();
  private kv: KV | null = null;

  constructor(
    private readonly nats: NatsConnectionManager,
    private readonly namespace: string,
    private readonly peers: readonly string[],
    private readonly applier: () => PeerChangeApplier,
    private readonly log: ReplicatorLog,
  ) {}

  views(): BackfillView[] {
    return [...this.runs.values()];
  }

  /** Starts any back-fill of the bucket not yet done (idempotent). */
  ensure(bucket: string): void {
    for (const peer of this.peers) {
      const id = `${bucket}\n${peer}`;
      if (this.runs.get(id)?.state === 'running' || this.stopped) continue;
      const work = this.run(bucket, peer).catch((error) => this.log.warn({ bucket, peer, err: error }, 'back-fill failed'));
      this.running.add(work);
      void work.finally(() => this.running.delete(work));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    await Promise.all([...this.running]);
  }

  private async store(): Promise<KV> {
    this.kv ??= await (await this.nats.connection()).jetstream().views.kv(`${subjectsFor(this.namespace).durableName('sync-backfill')}`, { history: 1 });
    return this.kv;
  }

  private doneKey(bucket: string, peer: string): string {
    return `${bucketToken(bucket)}.${peer}`;
  }

  private async run(bucket: string, peer: string): Promise<void> {
    const kv = await this.store();
    if ((await kv.get(this.doneKey(bucket, peer)))?.string()) return;
    const id = `${bucket}\n${peer}`;
    const view: { -readonly [K in keyof BackfillView]: BackfillView[K] } = {
      bucket,
      source: peer,
      state: 'running',
      eventsTotal: 0,
      eventsApplied: 0,
      startedAt: new Date().toISOString(),
      finishedAt: null,
    };
    this.runs.set(id, view);
    try {
      const jsm = await jetStreamManager(this.nats);
      const stream = await ensureInboundStream(jsm, this.namespace, peer);
      const filter = subjectsFor(this.namespace).prefix(`meta.object.${bucketToken(bucket)}.>`);
      view.eventsTotal = (await jsm.streams.info(stream, { subjects_filter: filter })).state.num_subjects === 0 ? 0 : await countMessages(jsm, stream, filter);
      let seen = 0;
      for await (const m of messagesOnSubject(jsm, stream, filter)) {
        for (;;) {
          if (this.stopped) {
            view.state = 'failed';
            view.error = 'sync stopped';
            return;
          }
          try {
            const outcome = await this.applier().apply(peer, m.seq, m.data, this.abort.signal, { backfill: true });
            if (outcome.kind === 'applied') view.eventsApplied += 1;
            break;
          } catch (error) {
            view.error = String((error as Error)?.message ?? error);
            await new Promise((resolve) => setTimeout(resolve, RETRY_DELAY_MS));
          }
        }
        seen += 1;
        view.eventsTotal = Math.max(view.eventsTotal, seen);
      }
      await kv.put(this.doneKey(bucket, peer), JSON.stringify({ at: new Date().toISOString(), events: seen }));
      view.state = 'done';
      view.finishedAt = new Date().toISOString();
      delete view.error;
    } catch (error) {
      view.state = 'failed';
      view.error = String((error as Error)?.message ?? error);
      throw error;
    }
  }
}

/** How many messages of the stream are on subjects matching the filter (the stream's per-subject counts). */
async function countMessages(jsm: JetStreamManager, stream: string, filter: string): Promise<number> {
  const info = await jsm.streams.info(stream, { subjects_filter: filter });
  return Object.values(info.state.subjects ?? {}).reduce((sum, n) => sum + n, 0);
}
