import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Subscription } from 'nats';
import { NatsConnectionManager, rpcCodec, toErrorReply } from '@cairn/messaging';
import {
  subjectsFor,
  LOCK_MANAGER_SERVICE,
  LockPatterns,
  type AcquireLockRequest,
  type LockPattern,
  type ReleaseLockRequest,
  type RenewLockRequest,
} from '@cairn/protocol';
import { ClusterCredentials, SERVICE_IDENTITY, type ServiceIdentity } from '@cairn/service-kit';
import { unsignedRefusal } from './leader-rpc.responder';
import { instancePattern, LocksService } from './locks.service';
import { NatsResponderLifecycle } from './nats-responder.lifecycle';

/**
 * Answers what other replicas forward to this one on `rpc.lock-manager.<instance>.<op>`: a
 * subject of its own, outside the queue group, so a follower reaches exactly the leader it names.
 * A forward is signed by the replica that sends it; an unsigned one is refused like any request.
 */
@Injectable()
export class LeaderForwardingResponder extends NatsResponderLifecycle {
  protected readonly logger = new Logger('LeaderForwardingResponder');
  private readonly subscriptions: Subscription[] = [];

  constructor(
    private readonly nats: NatsConnectionManager,
    private readonly locks: LocksService,
    private readonly credentials: ClusterCredentials,
    @Inject(SERVICE_IDENTITY) private readonly identity: ServiceIdentity,
  ) {
    super();
  }

  protected stop(): void {
    for (const sub of this.subscriptions) sub.unsubscribe();
  }

  protected async start(): Promise<void> {
    const nc = await Promise.race([this.nats.connection(), this.stopSignal]);
    if (!nc || this.stopping) return;
    const subjects = subjectsFor(this.identity.namespace);
    for (const op of Object.values(LockPatterns)) {
      const subject = subjects.rpc(LOCK_MANAGER_SERVICE, instancePattern(this.identity.instance, op));
      this.subscriptions.push(
        nc.subscribe(subject, {
          callback: (err, msg) => {
            if (err) return this.logger.error(`${subject}: ${err.message}`);
            const refused = unsignedRefusal(this.credentials, msg, this.logger);
            if (refused) {
              if (msg.reply) msg.respond(rpcCodec.encode(refused));
              return;
            }
            void this.answer(op, msg.data.length ? rpcCodec.decode(msg.data) : null).then((reply) => {
              if (msg.reply) msg.respond(rpcCodec.encode(reply));
            });
          },
        }),
      );
    }
  }

  private async answer(op: LockPattern, payload: unknown): Promise<unknown> {
    try {
      return { ok: true, value: await this.dispatch(op, payload) };
    } catch (error) {
      return { ok: false, error: toErrorReply(error) };
    }
  }

  /** Forwarded payloads were validated by the replica that received them from the client. */
  private dispatch(op: LockPattern, payload: unknown): Promise<unknown> {
    switch (op) {
      case 'acquire':
        return this.locks.acquire(payload as AcquireLockRequest, true);
      case 'renew':
        return this.locks.renew(payload as RenewLockRequest, true);
      case 'release':
        return this.locks.release(payload as ReleaseLockRequest, true);
      case 'inspect':
        return this.locks.inspect((payload as { resource: string }).resource);
      default: {
        const never: never = op;
        throw new Error(`unknown lock operation ${String(never)}`);
      }
    }
  }
}
