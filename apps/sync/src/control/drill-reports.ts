import { Injectable } from '@nestjs/common';
import { JetStreamEventStore } from '@cairn/messaging';
import { CairnError, DrillSchemaVersions, MetadataErrorCodes, subjectsFor, type DrillReport, type DrillReported } from '@cairn/protocol';
import { EventClock, SERVICE_IDENTITY, type ServiceIdentity } from '@cairn/service-kit';
import { Inject } from '@nestjs/common';

const REPORT_BYTES_MAX = 64 * 1024;
const REGION_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** Drill reports (docs/failover.md), kept as DrillReported events on this region's CLUSTER stream. */
@Injectable()
export class DrillReports {
  constructor(
    private readonly events: JetStreamEventStore,
    private readonly clock: EventClock,
    @Inject(SERVICE_IDENTITY) private readonly identity: ServiceIdentity,
  ) {}

  async record(payload: unknown): Promise<{ id: string; sequence: number }> {
    const report = validReport(payload);
    const event: DrillReported = { type: 'DrillReported', data: report };
    const sequence = await this.events.publish(subjectsFor(this.identity.namespace).drills(), this.clock.envelope(event, report.id, DrillSchemaVersions.DrillReported));
    return { id: report.id, sequence };
  }

  /** Every report kept here, newest first. */
  async list(): Promise<DrillReport[]> {
    const { events } = await this.events.read(subjectsFor(this.identity.namespace).drills());
    return events
      .filter((e) => e.envelope.type === 'DrillReported')
      .map((e) => e.envelope.data as DrillReport)
      .reverse();
  }
}

/** A report as the CLI sends it: checked for shape and size (it is stored as it came). */
function validReport(payload: unknown): DrillReport {
  const r = payload as Partial<DrillReport> | null;
  const problem = (what: string) => new CairnError(MetadataErrorCodes.InvalidArgument, `a drill report ${what}`);
  if (typeof r !== 'object' || r === null || Array.isArray(r)) throw problem('must be an object');
  if (JSON.stringify(r).length > REPORT_BYTES_MAX) throw problem(`must be under ${REPORT_BYTES_MAX} bytes`);
  if (typeof r.id !== 'string' || !/^[A-Za-z0-9-]{1,64}$/.test(r.id)) throw problem('needs an id');
  if (typeof r.region !== 'string' || !REGION_PATTERN.test(r.region)) throw problem('names the region taken out');
  if (typeof r.bucket !== 'string' || r.bucket.length > 63) throw problem('names its bucket');
  for (const field of ['startedAt', 'failedAt', 'finishedAt'] as const) {
    if (typeof r[field] !== 'string' || Number.isNaN(Date.parse(r[field] as string))) throw problem(`needs ${field} as an ISO time`);
  }
  if (typeof r.ok !== 'boolean' || typeof r.splitBrain !== 'boolean' || typeof r.converged !== 'boolean') throw problem('needs ok, splitBrain and converged');
  for (const field of ['rpoObjects', 'rpoSeconds', 'lostAcknowledged'] as const) {
    if (typeof r[field] !== 'number' || !Number.isFinite(r[field] as number) || (r[field] as number) < 0) throw problem(`needs ${field} as a number`);
  }
  return r as DrillReport;
}
