/** `failed` holds only while the last run failed; the next success puts the worker back to `idle`. */
export type WorkerState = 'idle' | 'running' | 'stopped' | 'failed';

/** How far a worker got, as it reports it; every figure is optional. */
export interface WorkerProgress {
  readonly doneItems?: number;
  readonly totalItems?: number;
  readonly doneBytes?: number;
  readonly totalBytes?: number;
  readonly ratePerSecond?: number;
  /** null when the worker cannot tell. */
  readonly etaSeconds?: number | null;
  readonly detail?: string;
}

export interface WorkerStatus {
  readonly name: string;
  readonly state: WorkerState;
  /** Runs finished, failed ones included. */
  readonly runs: number;
  /** ISO time the last run finished. */
  readonly lastRunAt?: string;
  readonly lastError?: string;
  readonly lastErrorAt?: string;
  readonly progress?: WorkerProgress;
}

/** A background loop that /health and /metrics can list (see WorkerRegistry). */
export interface NamedWorker {
  readonly name: string;
  status(): WorkerStatus;
}
