import { createHash, type Hash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

/**
 * The hashes of an upload's body, fed with its bytes in order: the MD5 of the whole body (its
 * ETag) and, where asked, the SHA-256 of each chunk (its name). MD5 is the slowest hash on the
 * PUT path (about 575 MB/s a core) and a chunk cannot be sent before its name is known, so a
 * large body is hashed on a worker thread, a piece at a time as its chunk buffer fills, while the
 * main thread receives and sends.
 */
export interface UploadHashes {
  /** A buffer `update` may be given: shared memory when the hashes run on another thread. */
  allocate(sizeBytes: number): Buffer;
  /**
   * Hashes these bytes after those of the previous calls; with `inChunk` they also count toward
   * the current chunk's SHA-256. Resolves once they have been read, so their buffer may be
   * refilled then and not before.
   */
  update(bytes: Buffer, inChunk: boolean): Promise<void>;
  /**
   * The SHA-256 (hex) of the bytes given `inChunk` since the last call, and a new chunk begins;
   * undefined when these hashes do not name chunks (the store hashes them itself).
   */
  endChunk(): Promise<string | undefined>;
  /** The MD5 of every byte given; once, after the last update. */
  digest(): Promise<Buffer>;
  /** Gives up on this body (it failed); nothing follows. */
  drop(): void;
}

/** On the calling thread, the MD5 only: for small bodies, where a message to a worker costs more than the hashes. */
export class InThreadUploadHashes implements UploadHashes {
  private readonly md5: Hash = createHash('md5');

  allocate(sizeBytes: number): Buffer {
    return Buffer.allocUnsafe(sizeBytes);
  }

  async update(bytes: Buffer): Promise<void> {
    this.md5.update(bytes);
  }

  async endChunk(): Promise<undefined> {
    return undefined;
  }

  async digest(): Promise<Buffer> {
    return this.md5.digest();
  }

  drop(): void {
    // Nothing held but the hash state, which goes with this object.
  }
}

/** A pool's workers at most; on fewer cores, one fewer than the cores (at least one). */
export const HASH_WORKERS_MAX = 2;

type WorkerRequest =
  | { readonly op: 'update'; readonly body: number; readonly bytes: Uint8Array; readonly inChunk: boolean }
  | { readonly op: 'endChunk' | 'digest' | 'drop'; readonly body: number };

type WorkerReply = { readonly ok: true; readonly chunkHash?: string; readonly md5?: Uint8Array } | { readonly ok: false; readonly error: string };

/**
 * Runs on each worker. Requests arrive in the order they were posted and every one but a drop is
 * answered in that order, so the main thread matches replies to requests first in, first out.
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const bodies = new Map();
parentPort.on('message', (request) => {
  if (request.op === 'drop') {
    bodies.delete(request.body);
    return;
  }
  try {
    let body = bodies.get(request.body);
    if (!body) {
      body = { md5: createHash('md5'), chunk: null };
      bodies.set(request.body, body);
    }
    if (request.op === 'update') {
      body.md5.update(request.bytes);
      if (request.inChunk) (body.chunk ??= createHash('sha256')).update(request.bytes);
      parentPort.postMessage({ ok: true });
    } else if (request.op === 'endChunk') {
      const chunkHash = (body.chunk ?? createHash('sha256')).digest('hex');
      body.chunk = null;
      parentPort.postMessage({ ok: true, chunkHash });
    } else {
      bodies.delete(request.body);
      parentPort.postMessage({ ok: true, md5: body.md5.digest() });
    }
  } catch (error) {
    bodies.delete(request.body);
    parentPort.postMessage({ ok: false, error: String((error && error.message) || error) });
  }
});
`;

interface Waiter {
  readonly resolve: (reply: WorkerReply) => void;
  readonly reject: (error: Error) => void;
}

/** One long-lived worker thread hashing the bodies given to it, each under its own number. */
class HashWorker {
  private readonly worker: Worker;
  private readonly waiting: Waiter[] = [];
  private failure: Error | null = null;
  private nextBody = 0;
  /** Bodies open on this worker (a pool hands new ones to the least loaded). */
  openBodies = 0;

  constructor() {
    this.worker = new Worker(WORKER_SOURCE, { eval: true });
    // A worker never keeps the process alive: the requests waiting on it do.
    this.worker.unref();
    this.worker.on('message', (reply: WorkerReply) => this.waiting.shift()?.resolve(reply));
    this.worker.on('error', (error) => this.fail(error));
    this.worker.on('exit', (code) => this.fail(new Error(`the hash worker exited with code ${code}`)));
  }

  get failed(): boolean {
    return this.failure !== null;
  }

  newBody(): number {
    return this.nextBody++;
  }

  async ask(request: WorkerRequest): Promise<WorkerReply & { ok: true }> {
    if (this.failure) throw this.failure;
    const reply = await new Promise<WorkerReply>((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.worker.postMessage(request);
    });
    if (!reply.ok) throw new Error(`hash worker: ${reply.error}`);
    return reply;
  }

  tell(request: WorkerRequest): void {
    if (!this.failure) this.worker.postMessage(request);
  }

  async terminate(): Promise<void> {
    await this.worker.terminate();
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const waiter of this.waiting.splice(0)) waiter.reject(this.failure);
  }
}

class WorkerUploadHashes implements UploadHashes {
  private readonly body: number;
  private finished = false;

  constructor(private readonly worker: HashWorker) {
    this.body = worker.newBody();
    worker.openBodies++;
  }

  allocate(sizeBytes: number): Buffer {
    return Buffer.from(new SharedArrayBuffer(sizeBytes));
  }

  async update(bytes: Buffer, inChunk: boolean): Promise<void> {
    // Anything else would be copied into the message, or worse, its whole backing store.
    if (!(bytes.buffer instanceof SharedArrayBuffer)) throw new TypeError('a worker hashes shared memory only: take buffers from allocate()');
    this.assertOpen();
    await this.worker.ask({ op: 'update', body: this.body, bytes, inChunk });
  }

  async endChunk(): Promise<string> {
    this.assertOpen();
    const reply = await this.worker.ask({ op: 'endChunk', body: this.body });
    if (reply.chunkHash === undefined) throw new Error('hash worker: no chunk hash');
    return reply.chunkHash;
  }

  async digest(): Promise<Buffer> {
    this.assertOpen();
    this.close();
    const reply = await this.worker.ask({ op: 'digest', body: this.body });
    if (!reply.md5) throw new Error('hash worker: no MD5');
    return Buffer.from(reply.md5.buffer, reply.md5.byteOffset, reply.md5.byteLength);
  }

  drop(): void {
    if (this.finished) return;
    this.close();
    this.worker.tell({ op: 'drop', body: this.body });
  }

  private assertOpen(): void {
    if (this.finished) throw new Error('UploadHashes used after digest or drop');
  }

  private close(): void {
    this.finished = true;
    this.worker.openBodies--;
  }
}

/**
 * A small pool of long-lived hash workers, started on first use. A worker that failed is
 * replaced for the next body; the bodies it held fail with its error.
 */
export class HashWorkerPool {
  private readonly workers: HashWorker[] = [];

  constructor(readonly workerCount: number = defaultHashWorkerCount()) {
    if (!Number.isSafeInteger(workerCount) || workerCount < 1) throw new RangeError(`a hash worker pool needs at least one worker, not ${workerCount}`);
  }

  open(): UploadHashes {
    for (let i = this.workers.length - 1; i >= 0; i--) {
      if (this.workers[i].failed) this.workers.splice(i, 1);
    }
    if (this.workers.length < this.workerCount) this.workers.push(new HashWorker());
    const leastLoaded = this.workers.reduce((best, w) => (w.openBodies < best.openBodies ? w : best));
    return new WorkerUploadHashes(leastLoaded);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.splice(0).map((w) => w.terminate()));
  }
}

function defaultHashWorkerCount(): number {
  return Math.max(1, Math.min(HASH_WORKERS_MAX, availableParallelism() - 1));
}

let processPool: HashWorkerPool | undefined;

/** The process's hash workers: one pool however many gateways a process runs (tests run several). */
export function processHashWorkers(): HashWorkerPool {
  processPool ??= new HashWorkerPool();
  return processPool;
}
