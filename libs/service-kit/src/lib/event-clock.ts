import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { CommandContext } from '@cairn/eventing';
import { encodeHlc, HybridLogicalClock } from '@cairn/hashing';
import { wrapEvent, type DomainEvent, type EventEnvelope } from '@cairn/protocol';
import { SERVICE_IDENTITY, type ServiceIdentity } from './service-identity';

export interface Provenance {
  readonly causationId?: string | null;
  readonly correlationId?: string | null;
}

/**
 * Where a service's events get their ids, wall time and hybrid-logical-clock stamps: the one
 * place the shell reads the clock for events, so pure deciders never do.
 */
@Injectable()
export class EventClock {
  private readonly hlc = new HybridLogicalClock();

  constructor(@Inject(SERVICE_IDENTITY) private readonly identity: ServiceIdentity) {}

  nextHlc(): string {
    return encodeHlc(this.hlc.now(Date.now()));
  }

  newId(): string {
    return randomUUID();
  }

  commandContext(provenance: Provenance = {}): CommandContext {
    return {
      region: this.identity.region,
      causationId: provenance.causationId ?? null,
      correlationId: provenance.correlationId ?? null,
      now: () => new Date(),
      newId: () => this.newId(),
      nextHlc: () => this.nextHlc(),
    };
  }

  envelope<E extends DomainEvent>(event: E, aggregateId: string, schemaVersion = 1, provenance: Provenance = {}): EventEnvelope<E['type'], E['data']> {
    return wrapEvent(event, schemaVersion, {
      region: this.identity.region,
      aggregateId,
      causationId: provenance.causationId,
      correlationId: provenance.correlationId,
      now: new Date(),
      newId: () => this.newId(),
      nextHlc: () => this.nextHlc(),
    });
  }
}
