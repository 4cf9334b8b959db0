import type { Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { LargeMessageHolder, REQUEST_PIECE_TIMEOUT_MS, requestBodyOf, requestLarge, rpcCodec, toErrorReply, type MessageAuthenticator, type NatsConnectionManager } from '@cairn/messaging';
import { CairnError, ErrorCodes, federationSubject, MESSAGE_AUTH_HEADER, subjectsFor, type FederationOp, type Reply } from '@cairn/protocol';
import { headers as natsHeaders, type NatsConnection, type Subscription } from 'nats';

/**
 * Request/reply between regions' sync services on `fed.<region>.<op>` (federation.contract.ts),
 * the subject family that crosses the links: signed like RpcClient signs (MESSAGE_AUTH_HEADER, the
 * cluster credentials), answered with the RPC reply shape, and refused unsigned or badly signed
 * by the responder before its handler sees the request. A request or reply too large for one NATS
 * message is held by its sender and fetched in pieces (large-replies.ts): a request's pieces are
 * served under `fed.<this region>.request-pieces.`, which the link carries to the other region.
 */
export class FederationRequester {
  private largeRequests: { readonly nc: NatsConnection; readonly holder: LargeMessageHolder } | undefined;

  constructor(
    private readonly nats: NatsConnectionManager,
    private readonly namespace: string,
    private readonly authenticator: MessageAuthenticator,
    /** This region: where the pieces of its large requests are served. */
    private readonly region: string,
  ) {}

  async request<T>(region: string, op: FederationOp, payload: unknown, timeoutMs: number): Promise<T> {
    const nc = await this.nats.connection();
    const subject = federationSubject(this.namespace, region, op);
    const data = rpcCodec.encode(payload ?? null);
    let reply: Reply<T>;
    try {
      // A reply too large for one NATS message (a key's long history) is fetched in pieces; a request too large is held for the responder to fetch.
      const body = await requestLarge(nc, subject, data, { timeoutMs, headers: natsHeaders(), authenticator: this.authenticator, holder: () => this.largeRequestHolder(nc) });
      reply = rpcCodec.decode(body) as Reply<T>;
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === '503') throw new CairnError(ErrorCodes.NoHandler, `no sync of ${region} answers ${op} (link down or sync not running)`);
      if (code === 'TIMEOUT') throw new CairnError(ErrorCodes.Timeout, `sync of ${region} did not answer ${op} within ${timeoutMs} ms`);
      throw error;
    }
    if (reply.ok) return reply.value;
    throw CairnError.fromReply(reply.error);
  }

  private largeRequestHolder(nc: NatsConnection): LargeMessageHolder {
    if (this.largeRequests?.nc === nc) return this.largeRequests.holder;
    this.largeRequests?.holder.close();
    const holder = new LargeMessageHolder(nc, `${federationRequestPiecesPrefix(this.namespace, this.region)}${randomBytes(8).toString('hex')}`, this.authenticator);
    this.largeRequests = { nc, holder };
    return holder;
  }
}

/** Where a region's syncs serve the pieces of their large federation requests. */
export function federationRequestPiecesPrefix(namespace: string, region: string): string {
  return subjectsFor(namespace).prefix(`fed.${region}.request-pieces.`);
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
  // Pieces are served under this region's `fed.` subjects, the family that crosses the links.
  const largeReplies = new LargeMessageHolder(nc, subjectsFor(namespace).prefix(`fed.${region}.reply-pieces.${randomBytes(8).toString('hex')}`), authenticator);
  // A large request's pieces are fetched from the requester's region, under its `fed.` subjects.
  const largeRequests = { timeoutMs: REQUEST_PIECE_TIMEOUT_MS, authenticator, subjectPrefix: subjectsFor(namespace).prefix('fed.') };
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
          const data = await requestBodyOf(nc, msg, largeRequests);
          const payload = data.length ? rpcCodec.decode(data) : null;
          reply = { ok: true, value: (await handler(payload)) ?? null };
        } catch (error) {
          reply = { ok: false, error: toErrorReply(error) };
        }
        if (msg.reply) largeReplies.respond(msg, rpcCodec.encode(reply));
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
