import { ErrorCode, NatsError } from 'nats';
import { ProtocolHandler } from 'nats/lib/nats-base-client/protocol';

let requestErrorsCheapened = false;

/**
 * Every finished nats.js (2.x) request (RPCs, JetStream publishes and API calls) ends by rejecting
 * its already settled promise with a new 'Cancelled' NatsError that nobody sees. Capturing that
 * error's stack trace cost ~12 µs per request here, about a third of a request's client-side CPU in
 * a request/reply benchmark and 7% of the metadata service's CPU under small PUTs
 * (docs/benchmarks.md). A Cancelled error is now built without a stack trace; a request that is
 * really cancelled (its connection closing) still rejects with it, code and message unchanged.
 * Every other error keeps its stack.
 */
export function cheapenCancelledRequestErrors(): void {
  if (requestErrorsCheapened) return;
  requestErrorsCheapened = true;
  const errorForCode = NatsError.errorForCode.bind(NatsError);
  NatsError.errorForCode = (code: string, chainedError?: Error): NatsError => {
    if (code !== ErrorCode.Cancelled) return errorForCode(code, chainedError);
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      return errorForCode(code, chainedError);
    } finally {
      Error.stackTraceLimit = limit;
    }
  };
}

interface PendingFlusher {
  flushPending(): void;
  readonly outbound: { size(): number };
  readonly pendingLimit: number;
}
const flushScheduled = Symbol('cairn.flushScheduled');
let socketWritesCoalesced = false;

/**
 * nats.js (2.x) writes its outbound buffer to the socket in a microtask after the first message
 * queued: each wave of promise continuations that publishes (an RPC reply, a JetStream append, an
 * ack) costs its own write system call, ~7% of the metadata service's CPU under 4 KiB PUTs (a CPU
 * profile of `npm run bench -- --only small`). The flush now waits for the end of the event loop's
 * turn (setImmediate), so every message queued while the turn's I/O is handled leaves in one
 * write, in the order queued. A message is never held past the turn, nor past the client's pending
 * limit; `flush()` and `drain()` still send everything queued before their PING.
 */
export function coalesceSocketWrites(): void {
  if (socketWritesCoalesced) return;
  socketWritesCoalesced = true;
  const prototype = ProtocolHandler.prototype as unknown as PendingFlusher & { [flushScheduled]?: boolean };
  const flushNow = prototype.flushPending;
  prototype.flushPending = function deferredFlush(this: PendingFlusher & { [flushScheduled]?: boolean }): void {
    // Past the client's pending limit the buffer goes out at once, as before.
    if (this.outbound.size() >= this.pendingLimit) return flushNow.call(this);
    if (this[flushScheduled]) return;
    this[flushScheduled] = true;
    setImmediate(() => {
      this[flushScheduled] = false;
      flushNow.call(this);
    });
  };
}
