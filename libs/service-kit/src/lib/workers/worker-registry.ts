import { Injectable } from '@nestjs/common';
import type { NamedWorker, WorkerStatus } from './worker';

/**
 * The background workers of this service. Whoever starts a worker registers it; /health lists
 * their statuses and /metrics exports them (see registerWorkerMetrics).
 */
@Injectable()
export class WorkerRegistry {
  private readonly workers = new Map<string, NamedWorker>();

  register(worker: NamedWorker): void {
    const existing = this.workers.get(worker.name);
    // Two workers under one name would hide one of them from monitoring.
    if (existing && existing !== worker) throw new Error(`a worker named ${worker.name} is already registered`);
    this.workers.set(worker.name, worker);
  }

  unregister(name: string): void {
    this.workers.delete(name);
  }

  /** Statuses by name. */
  list(): WorkerStatus[] {
    return [...this.workers.values()].map((w) => w.status()).sort((a, b) => a.name.localeCompare(b.name));
  }
}
