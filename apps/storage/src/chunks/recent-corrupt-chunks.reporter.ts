import { Injectable, Logger } from '@nestjs/common';
import type { CorruptChunkReport, CorruptChunkReporter } from '../domain/chunk-store.port';

export const RECENT_CORRUPT_CHUNKS_KEPT = 100;

/**
 * Logs each corrupt chunk and keeps the latest ones for /health. Publishing them to CLUSTER for
 * the repair job replaces this once the messaging module is wired into the storage app.
 */
@Injectable()
export class RecentCorruptChunksReporter implements CorruptChunkReporter {
  private readonly logger = new Logger('CorruptChunks');
  private readonly reports: CorruptChunkReport[] = [];

  report(report: CorruptChunkReport): void {
    this.logger.error(`chunk ${report.hash} is corrupt (${report.detail}); moved to ${report.movedTo}`);
    this.reports.push(report);
    if (this.reports.length > RECENT_CORRUPT_CHUNKS_KEPT) this.reports.shift();
  }

  recent(): readonly CorruptChunkReport[] {
    return this.reports;
  }
}
