import { Inject, Injectable, Logger } from '@nestjs/common';
import { plainToInstance, type ClassConstructor } from 'class-transformer';
import { validate, type ValidationError } from 'class-validator';
import type { Msg, NatsConnection, Subscription } from 'nats';
import { NatsConnectionManager, rpcCodec, toErrorReply } from '@cairn/messaging';
import { CairnError, ErrorCodes, LOCK_MANAGER_SERVICE, LockPatterns, MESSAGE_AUTH_HEADER, subjectsFor, type LockPattern } from '@cairn/protocol';
import { ClusterCredentials, SERVICE_IDENTITY, type ServiceIdentity } from '@cairn/service-kit';
import { AcquireLockRpcRequestDto } from './acquire-lock.request.dto';
import { compiledDtoCheck } from './compiled-dto-check';
import { InspectLockRpcRequestDto } from './inspect-lock.request.dto';
import { LockRaftNode } from './lock-raft-node.service';
import { NatsResponderLifecycle } from './nats-responder.lifecycle';
import { LocksService } from './locks.service';
import { ReleaseLockRpcRequestDto } from './release-lock.request.dto';
import { RenewLockRpcRequestDto } from './renew-lock.request.dto';

const REQUEST_DTOS: Record<LockPattern, ClassConstructor<object>> = {
  acquire: AcquireLockRpcRequestDto,
  renew: RenewLockRpcRequestDto,
  release: ReleaseLockRpcRequestDto,
  inspect: InspectLockRpcRequestDto,
};

/** What the service's global ValidationPipe enforces on every other RPC. */
const VALIDATION = { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true } as const;

/**
 * The lock API on NATS, `rpc.lock-manager.<op>`, answered only by the replica that leads: it
 * joins the queue group when it becomes leader and leaves it when it stops leading. A request
 * reaching a follower would cost a forward to the leader (two more NATS hops, a second signature
 * and validation), which was most of a lock operation's latency with three replicas. While no
 * replica leads, a request finds no responder at once (NO_HANDLER), which clients retry.
 * Requests are checked as the service's other responders check them: the signature, then the DTO.
 */
@Injectable()
export class LeaderRpcResponder extends NatsResponderLifecycle {
  protected readonly logger = new Logger('LeaderRpcResponder');
  private subscriptions: Subscription[] = [];
  private nc: NatsConnection | undefined;
  private leading = false;
  private stopListening: () => void = () => undefined;

  constructor(
    private readonly nats: NatsConnectionManager,
    private readonly raft: LockRaftNode,
    private readonly locks: LocksService,
    private readonly credentials: ClusterCredentials,
    @Inject(SERVICE_IDENTITY) private readonly identity: ServiceIdentity,
  ) {
    super();
  }

  protected stop(): void {
    this.stopListening();
    this.leave();
  }

  protected async start(): Promise<void> {
    const nc = await Promise.race([this.nats.connection(), this.stopSignal]);
    if (!nc || this.stopping) return;
    this.nc = nc;
    this.stopListening = this.raft.onLeadershipChange((leading) => {
      if (leading === this.leading || this.stopping) return;
      this.leading = leading;
      if (leading) this.join();
      else this.leave();
    });
  }

  private join(): void {
    const nc = this.nc;
    if (!nc || nc.isClosed() || this.subscriptions.length > 0) return;
    const subjects = subjectsFor(this.identity.namespace);
    for (const op of Object.values(LockPatterns)) {
      const subject = subjects.rpc(LOCK_MANAGER_SERVICE, op);
      this.subscriptions.push(
        nc.subscribe(subject, {
          queue: subject,
          callback: (err, msg) => {
            if (err) return this.logger.error(`${subject}: ${err.message}`);
            void this.answer(op, msg).then((reply) => {
              if (msg.reply) msg.respond(rpcCodec.encode(reply));
            });
          },
        }),
      );
    }
  }

  /** Requests already received are still answered (by forwarding, if another replica leads now). */
  private leave(): void {
    for (const sub of this.subscriptions) sub.unsubscribe();
    this.subscriptions = [];
  }

  private async answer(op: LockPattern, msg: Msg): Promise<unknown> {
    const refused = unsignedRefusal(this.credentials, msg, this.logger);
    if (refused) return refused;
    try {
      const request = await validRequest(REQUEST_DTOS[op], msg.data.length ? rpcCodec.decode(msg.data) : null);
      return { ok: true, value: (await this.dispatch(op, request)) ?? null };
    } catch (error) {
      return { ok: false, error: toErrorReply(error) };
    }
  }

  private dispatch(op: LockPattern, request: object): Promise<unknown> {
    switch (op) {
      case 'acquire':
        return this.locks.acquire({ ...(request as AcquireLockRpcRequestDto) });
      case 'renew':
        return this.locks.renew({ ...(request as RenewLockRpcRequestDto) });
      case 'release':
        return this.locks.release({ ...(request as ReleaseLockRpcRequestDto) });
      case 'inspect':
        return this.locks.inspect((request as InspectLockRpcRequestDto).resource);
      default: {
        const never: never = op;
        throw new Error(`unknown lock operation ${String(never)}`);
      }
    }
  }
}

/** The reply to a request without the cluster's valid signature, or null for a signed one. */
export function unsignedRefusal(credentials: ClusterCredentials, msg: Msg, logger: Logger): { ok: false; error: { code: string; message: string } } | null {
  const verdict = credentials.verify(msg.headers?.get(MESSAGE_AUTH_HEADER) || undefined, msg.subject, msg.data);
  if (verdict.ok) return null;
  logger.warn(`refused ${msg.subject}: ${verdict.reason}`);
  return { ok: false, error: { code: ErrorCodes.Unauthenticated, message: `request refused: ${verdict.reason}` } };
}

/**
 * The payload as its DTO (defaults applied), or INVALID_COMMAND with each broken rule, as the
 * ValidationPipe words them. A payload the DTO's compiled check accepts skips class-transformer
 * and class-validator; anything else goes through them.
 */
export async function validRequest<T extends object>(dto: ClassConstructor<T>, payload: unknown): Promise<T> {
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) throw new CairnError(ErrorCodes.InvalidCommand, 'the request must be a JSON object');
  const accepted = compiledDtoCheck(dto)?.(payload as Record<string, unknown>);
  if (accepted) return accepted;
  const request = plainToInstance(dto, payload);
  const errors = await validate(request, VALIDATION);
  if (errors.length > 0) throw new CairnError(ErrorCodes.InvalidCommand, errors.flatMap((e) => messagesOf(e)).join('; '));
  return request;
}

function messagesOf(error: ValidationError, parentPath = ''): string[] {
  const path = parentPath ? `${parentPath}.${error.property}` : error.property;
  const own = Object.values(error.constraints ?? {}).map((m) => (parentPath ? `${parentPath}.${m}` : m));
  return [...own, ...(error.children ?? []).flatMap((child) => messagesOf(child, path))];
}
