import { Injectable } from '@nestjs/common';
import { decodeEvent, JetStreamEventStore, NatsConnectionManager } from '@cairn/messaging';
import { subjectsFor, type EventEnvelope, type InstanceHealthEvent } from '@cairn/protocol';
import { statusAnnounced, type HealthAnnouncement } from '../domain/failure-verdict';
import type { InstanceStatus } from '../domain/phi-accrual.detector';

/** The last verdict CLUSTER holds for one instance, and where it stands in its subject's history. */
export interface AnnouncedHealth {
  readonly subject: string;
  readonly region: string;
  readonly service: string;
  readonly instance: string;
  readonly status: InstanceStatus;
  /** The stream sequence of that event: the next one is appended expecting it. */
  readonly sequence: number;
}

function isNotFound(error: unknown): boolean {
  const e = error as { code?: string; api_error?: { err_code?: number } };
  return e?.code === '404' || e?.api_error?.err_code === 10037;
}

const HEALTH_TYPES: readonly string[] = ['NodeSuspected', 'NodeDown', 'NodeRecovered'] satisfies readonly HealthAnnouncement[];

/**
 * The instance-health subjects of CLUSTER (`cluster.health.<region>.<service>.<instance>`) as the
 * failure detector's leader reads and writes them: the last event of every subject (what has been
 * announced), and appends that expect the subject's last sequence, so two monitoring instances
 * that both think they lead cannot announce the same change twice.
 */
@Injectable()
export class InstanceHealthLog {
  constructor(
    private readonly nats: NatsConnectionManager,
    private readonly events: JetStreamEventStore,
  ) {}

  subjectOf(namespace: string, region: string, service: string, instance: string): string {
    return subjectsFor(namespace).instanceHealth(region, service, instance);
  }

  /** The last event on every instance-health subject of the namespace. */
  async latest(namespace: string): Promise<AnnouncedHealth[]> {
    const subjects = subjectsFor(namespace);
    const jsm = await this.nats.jetstreamManager();
    const stream = subjects.streamName('CLUSTER');
    const info = await jsm.streams.info(stream, { subjects_filter: subjects.prefix('cluster.health.>') });
    const names = Object.keys(info.state.subjects ?? {});
    const out: AnnouncedHealth[] = [];
    for (const subject of names) {
      const one = await this.latestOf(subject);
      if (one) out.push(one);
    }
    return out;
  }

  /** The last event on one subject; null when it has none. */
  async latestOf(subject: string): Promise<AnnouncedHealth | null> {
    const jsm = await this.nats.jetstreamManager();
    let message;
    try {
      message = await jsm.streams.getMessage(this.events.streamFor(subject), { last_by_subj: subject });
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
    const envelope = decodeEvent(message.data, `${subject} #${message.seq}`);
    if (!HEALTH_TYPES.includes(envelope.type)) return null;
    const event = { type: envelope.type, data: envelope.data } as InstanceHealthEvent;
    return {
      subject,
      region: event.data.region,
      service: event.data.service,
      instance: event.data.instance,
      status: statusAnnounced(event.type),
      sequence: message.seq,
    };
  }

  /** Appends if the subject's last sequence is still `expectedLastSequence` (ConcurrencyConflictError otherwise). */
  async append(subject: string, envelope: EventEnvelope, expectedLastSequence: number): Promise<number> {
    const result = await this.events.append(subject, [envelope], expectedLastSequence);
    return result.lastSequence;
  }
}
