import { Injectable } from '@nestjs/common';
import { EVENT_TYPE_HEADER, NatsConnectionManager, nextMessageOnSubject, SCHEMA_VERSION_HEADER } from '@cairn/messaging';
import { IMPORT_EVENTS_MAX, MetadataErrorCodes, type ImportEventsReply, type ImportEventsRequest } from '@cairn/protocol';
import { headers as natsHeaders, JSONCodec } from 'nats';
import { MetadataError } from '../domain/shared/metadata.errors';
import { MetadataCommandContext } from '../shared/metadata-command-context';

const codec = JSONCodec<Record<string, unknown>>();

/**
 * A region restore replays a backup's events into this region's META (docs/backups.md). Events
 * are appended in the backup's order, each with its own id as Nats-Msg-Id, so a batch sent again
 * after a crash is not stored twice (within JetStream's duplicate window). A subject this region
 * had already started on its own — its first event is not the backup's first event of that
 * subject, as the root access key a fresh metadata creates — is left alone. Only metadata appends
 * to META: the scheduler that runs the restore sends the events here.
 */
@Injectable()
export class EventImportService {
  constructor(
    private readonly nats: NatsConnectionManager,
    private readonly ctx: MetadataCommandContext,
  ) {}

  async import(request: ImportEventsRequest): Promise<ImportEventsReply> {
    if (!Array.isArray(request.events) || request.events.length > IMPORT_EVENTS_MAX) {
      throw new MetadataError(MetadataErrorCodes.InvalidArgument, `events must be an array of at most ${IMPORT_EVENTS_MAX}`);
    }
    const stream = this.ctx.subjects.streamName('META');
    const jsm = await this.nats.jetstreamManager();
    const js = await this.nats.jetstream();
    const firstHere = new Map<string, string | null>();
    let imported = 0;
    let duplicates = 0;
    let skipped = 0;
    let sequence = 0;
    for (const item of request.events) {
      if (typeof item?.subject !== 'string' || !/^meta\.[A-Za-z0-9_.-]+$/.test(item.subject) || typeof item.event?.id !== 'string') {
        throw new MetadataError(MetadataErrorCodes.InvalidArgument, 'each event needs a meta.* subject and an envelope with an id');
      }
      const subject = this.ctx.subjects.prefix(item.subject);
      if (!firstHere.has(subject)) {
        const first = await nextMessageOnSubject(jsm, stream, subject, 1);
        firstHere.set(subject, first ? String((codec.decode(first.data) as { id?: unknown }).id ?? '') : null);
      }
      const first = firstHere.get(subject);
      if (first !== null && first !== undefined && first !== item.firstEventIdOfSubject) {
        skipped++;
        continue;
      }
      const h = natsHeaders();
      h.set(EVENT_TYPE_HEADER, String(item.event.type));
      h.set(SCHEMA_VERSION_HEADER, String(item.event.schemaVersion));
      const ack = await js.publish(subject, codec.encode(item.event), { msgID: item.event.id, headers: h });
      if (first === null) firstHere.set(subject, item.event.id);
      if (ack.duplicate) duplicates++;
      else imported++;
      sequence = Math.max(sequence, ack.seq);
    }
    return { imported, duplicates, skipped, sequence };
  }
}
