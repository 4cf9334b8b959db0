import { Inject, Injectable } from '@nestjs/common';
import type { StoredEvent } from '@cairn/eventing';
import { JetStreamEventStore } from '@cairn/messaging';
import { subjectsFor, type DrillReport } from '@cairn/protocol';
import { SERVICE_IDENTITY, type ServiceIdentity } from '@cairn/service-kit';
import type { DashboardDrills, DashboardDrillsSource } from '../dashboard/dashboard-sources.port';

/** Reports kept in memory for the dashboard (the stream keeps them all). */
export const DRILL_REPORTS_KEPT = 50;
/** New reports read one by one since the last read; more than this and the history is read again. */
const DRILL_REPORTS_READ_AFTER_MAX = 32;

/** The reports among a subject's events, oldest first. */
export function drillReportsOf(events: readonly StoredEvent[]): DrillReport[] {
  return events.filter((e) => e.envelope.type === 'DrillReported').map((e) => e.envelope.data as DrillReport);
}

/**
 * The disaster-recovery drill reports this region keeps (docs/failover.md): DrillReported events on
 * its CLUSTER stream at `cluster.drill`, where the new home's sync writes them. Read straight from
 * the stream, no call to sync; each read costs one last-sequence lookup unless a report was added.
 */
@Injectable()
export class DrillReportsReader implements DashboardDrillsSource {
  private readonly subject: string;
  private lastSequence = 0;
  private total = 0;
  /** Oldest first, at most DRILL_REPORTS_KEPT. */
  private kept: DrillReport[] = [];

  constructor(
    private readonly events: JetStreamEventStore,
    @Inject(SERVICE_IDENTITY) identity: ServiceIdentity,
  ) {
    this.subject = subjectsFor(identity.namespace).drills();
  }

  async drills(): Promise<DashboardDrills> {
    const last = await this.events.lastSequence(this.subject);
    if (last !== this.lastSequence) {
      const newer = last > this.lastSequence && this.lastSequence > 0 ? await this.events.readAfter(this.subject, this.lastSequence, last, DRILL_REPORTS_READ_AFTER_MAX) : undefined;
      if (newer) {
        const added = drillReportsOf(newer);
        this.kept = [...this.kept, ...added];
        this.total += added.length;
        this.lastSequence = last;
      } else {
        const read = await this.events.read(this.subject);
        const all = drillReportsOf(read.events);
        this.kept = all;
        this.total = all.length;
        this.lastSequence = read.lastSequence;
      }
      if (this.kept.length > DRILL_REPORTS_KEPT) this.kept = this.kept.slice(-DRILL_REPORTS_KEPT);
    }
    return { reports: [...this.kept].reverse(), total: this.total };
  }
}
