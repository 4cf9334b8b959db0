import { ErrorCode, NatsError } from 'nats';

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
