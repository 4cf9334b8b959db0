import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { CommandContext } from '@cairn/eventing';
import { decodeHlc, encodeHlc, HlcDriftError, HybridLogicalClock } from '@cairn/hashing';
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

  /**
   * Merges a timestamp another node or region issued, so that what this clock issues next comes
   * after it. A timestamp implausibly far ahead of our clock is not adopted (HlcDriftError): the
   * change still applies, ordered by its own HLC, but does not drag this clock into the future.
   */
  observeHlc(encoded: string): void {
    try {
      this.hlc.receive(decodeHlc(encoded), Date.now());
    } catch (error) {
      if (!(error instanceof HlcDriftError) && !(error instanceof RangeError)) throw error;
    }
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
