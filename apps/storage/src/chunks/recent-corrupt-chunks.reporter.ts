import { Injectable, Logger } from '@nestjs/common';
import type { CorruptChunkReport, CorruptChunkReporter } from '../domain/chunk-store.port';

export const RECENT_CORRUPT_CHUNKS_KEPT = 100;

/**
 * Logs each corrupt chunk, keeps the latest ones for /health, and tells its listeners (the
 * service publishes each report to CLUSTER for the repair job).
 */
@Injectable()
export class RecentCorruptChunksReporter implements CorruptChunkReporter {
  private readonly logger = new Logger('CorruptChunks');
  private readonly reports: CorruptChunkReport[] = [];
  private readonly listeners: ((report: CorruptChunkReport) => void)[] = [];

  report(report: CorruptChunkReport): void {
    this.logger.error(`chunk ${report.hash} is corrupt (${report.detail}, found on ${report.foundAt}); moved to ${report.movedTo}`);
    this.reports.push(report);
    if (this.reports.length > RECENT_CORRUPT_CHUNKS_KEPT) this.reports.shift();
    for (const listener of this.listeners) listener(report);
  }

  /** The service shell listens here to publish each report to CLUSTER. */
  onReport(listener: (report: CorruptChunkReport) => void): void {
    this.listeners.push(listener);
  }

  recent(): readonly CorruptChunkReport[] {
    return this.reports;
  }
}
