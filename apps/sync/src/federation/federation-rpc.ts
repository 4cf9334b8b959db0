import type { Logger } from '@nestjs/common';
import { rpcCodec, toErrorReply, type MessageAuthenticator, type NatsConnectionManager } from '@cairn/messaging';
import { CairnError, ErrorCodes, federationSubject, MESSAGE_AUTH_HEADER, type FederationOp, type Reply } from '@cairn/protocol';
import { headers as natsHeaders, type Subscription } from 'nats';

/**
 * Request/reply between regions' sync services on `fed.<region>.<op>` (federation.contract.ts),
 * the subject family that crosses the links: signed like RpcClient signs (MESSAGE_AUTH_HEADER, the
 * cluster credentials), answered with the RPC reply shape, and refused unsigned or badly signed
 * by the responder before its handler sees the request.
 */
export class FederationRequester {
  constructor(
    private readonly nats: NatsConnectionManager,
    private readonly namespace: string,
    private readonly authenticator: MessageAuthenticator,
  ) {}

  async request<T>(region: string, op: FederationOp, payload: unknown, timeoutMs: number): Promise<T> {
    const nc = await this.nats.connection();
    const subject = federationSubject(this.namespace, region, op);
    const data = rpcCodec.encode(payload ?? null);
    const h = natsHeaders();
    h.set(MESSAGE_AUTH_HEADER, this.authenticator.sign(subject, data));
    let reply: Reply<T>;
    try {
      const m = await nc.request(subject, data, { timeout: timeoutMs, headers: h });
      reply = rpcCodec.decode(m.data) as Reply<T>;
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === '503') throw new CairnError(ErrorCodes.NoHandler, `no sync of ${region} answers ${op} (link down or sync not running)`);
      if (code === 'TIMEOUT') throw new CairnError(ErrorCodes.Timeout, `sync of ${region} did not answer ${op} within ${timeoutMs} ms`);
      throw error;
    }
    if (reply.ok) return reply.value;
    throw CairnError.fromReply(reply.error);
  }
}

/**
 * Answers `fed.<region>.<op>` for this region (a queue group: one instance answers each request);
 * verifies each request's signature first and refuses it UNAUTHENTICATED otherwise.
 */
export async function serveFederationOp(
  nats: NatsConnectionManager,
  namespace: string,
  region: string,
  op: FederationOp,
  authenticator: MessageAuthenticator,
  handler: (payload: unknown) => Promise<unknown>,
  logger: Pick<Logger, 'warn'>,
): Promise<Subscription> {
  const nc = await nats.connection();
  const subject = federationSubject(namespace, region, op);
  return nc.subscribe(subject, {
    queue: subject,
    callback: (err, msg) => {
      if (err) return logger.warn(`responder ${subject}: ${err.message}`);
      void (async () => {
        const verdict = authenticator.verify(msg.headers?.get(MESSAGE_AUTH_HEADER) || undefined, msg.subject, msg.data);
        if (!verdict.ok) {
          logger.warn(`refused ${msg.subject}: ${verdict.reason}`);
          if (msg.reply) msg.respond(rpcCodec.encode({ ok: false, error: { code: ErrorCodes.Unauthenticated, message: `request refused: ${verdict.reason}` } }));
          return;
        }
        let reply: unknown;
        try {
          const payload = msg.data.length ? rpcCodec.decode(msg.data) : null;
          reply = { ok: true, value: (await handler(payload)) ?? null };
        } catch (error) {
          reply = { ok: false, error: toErrorReply(error) };
        }
        if (msg.reply) msg.respond(rpcCodec.encode(reply));
      })();
    },
  });
}

/** Pause between attempts to subscribe while NATS is away. */
const SERVE_RETRY_MS = 1_000;

export interface FederationOpHandler {
  readonly op: FederationOp;
  readonly handler: (payload: unknown) => Promise<unknown>;
}

/**
 * Answers these ops for this region as soon as NATS lets it: a service whose NATS is not reachable
 * yet still boots, and this keeps trying every second (all or none subscribed) until it succeeds or
 * `stopped()` says to give up (then it resolves with no subscriptions).
 */
export async function serveFederationOpsWhenReady(
  nats: NatsConnectionManager,
  namespace: string,
  region: string,
  authenticator: MessageAuthenticator,
  ops: readonly FederationOpHandler[],
  logger: Pick<Logger, 'warn'>,
  stopped: () => boolean,
): Promise<Subscription[]> {
  while (!stopped()) {
    const subscriptions: Subscription[] = [];
    try {
      for (const { op, handler } of ops) subscriptions.push(await serveFederationOp(nats, namespace, region, op, authenticator, handler, logger));
      return subscriptions;
    } catch (error) {
      for (const s of subscriptions) s.unsubscribe();
      logger.warn(`cannot answer ${ops.map((o) => o.op).join(', ')} yet: ${String(error)}`);
      await new Promise((resolve) => setTimeout(resolve, SERVE_RETRY_MS));
    }
  }
  return [];
}
