import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { INestApplication } from '@nestjs/common';
import { CairnError, EMPTY_SHA256, ErrorCodes, isClusterAuthorization, sha256Hex, UNSIGNED_PAYLOAD, type OperatorRole } from '@cairn/protocol';
import type { IncomingMessage } from 'node:http';
import type { BaseServiceConfig } from '../config/service-config';
import type { ClusterCredentials } from './cluster-credentials';
import { ROUTE_ACCESS, VERIFIES_OWN_PAYLOAD, type RouteAccess } from './route-access';

/** Who a request was proven to come from; set on the request for handlers and logs. */
export type RequestCaller =
  | { readonly kind: 'service'; readonly name: string }
  | { readonly kind: 'operator'; readonly role: OperatorRole; readonly tokenId: string; readonly label: string };

export type AuthenticatedRequest = IncomingMessage & { originalUrl?: string; rawBody?: Buffer; caller?: RequestCaller };

/** One line for logs: which service, or which operator token (its id, never the token). */
export function describeCaller(caller: RequestCaller | undefined): string {
  if (!caller) return 'an unauthenticated caller';
  return caller.kind === 'service' ? `service ${caller.name}` : `${caller.role} operator token ${caller.tokenId}${caller.label ? ` (${caller.label})` : ''}`;
}

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const BEARER = /^Bearer\s+(\S+)$/;

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
}

function unauthenticated(message: string): CairnError {
  return new CairnError(ErrorCodes.Unauthenticated, message);
}

/**
 * The one door of every service's HTTP API: each route's RouteAccess decides which credentials it
 * takes; a cluster signature is checked for time, replay and the body's hash; an operator token
 * for expiry and role. RPC over NATS is checked by the transport, so it passes here.
 */
@Injectable()
export class ClusterAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly credentials: ClusterCredentials,
    private readonly config: Pick<BaseServiceConfig, 'CAIRN_METRICS_AUTH'>,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    let access = this.reflector.getAllAndOverride<RouteAccess | undefined>(ROUTE_ACCESS, [context.getHandler(), context.getClass()]) ?? 'cluster';
    if (access === 'metrics') access = this.config.CAIRN_METRICS_AUTH === 'public' ? 'public' : 'operator';
    if (access === 'public') return true;
    const req = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const authorization = req.headers.authorization;
    if (isClusterAuthorization(authorization)) {
      req.caller = this.verifyService(req, this.reflector.getAllAndOverride<boolean>(VERIFIES_OWN_PAYLOAD, [context.getHandler(), context.getClass()]) === true);
      return true;
    }
    const bearer = authorization ? BEARER.exec(authorization) : null;
    if (bearer) {
      const verdict = this.credentials.verifyOperatorToken(bearer[1]);
      if (!verdict.ok) throw unauthenticated(verdict.reason);
      if (access === 'cluster') throw new CairnError(ErrorCodes.Forbidden, 'this route is for Cairn services only; operator tokens are taken by the admin APIs');
      if (verdict.claims.role === 'read-only' && !READ_METHODS.has(req.method ?? '')) {
        throw new CairnError(ErrorCodes.Forbidden, `a read-only operator token cannot ${req.method} here`);
      }
      req.caller = { kind: 'operator', role: verdict.claims.role, tokenId: verdict.claims.id, label: verdict.claims.label };
      return true;
    }
    throw unauthenticated(
      access === 'cluster'
        ? 'this route needs a request signed with the cluster secret (Cairn-HMAC-SHA256)'
        : 'this route needs an operator token (Authorization: Bearer …) or a request signed with the cluster secret',
    );
  }

  private verifyService(req: AuthenticatedRequest, verifiesOwnPayload: boolean): RequestCaller {
    const method = req.method ?? 'GET';
    const verdict = this.credentials.verifyHttp(
      { method, pathAndQuery: req.originalUrl ?? req.url ?? '/', headers: req.headers },
      { trackNonce: !READ_METHODS.has(method) },
    );
    if (!verdict.ok) throw unauthenticated(verdict.reason);
    if (req.rawBody !== undefined) {
      if (verdict.contentSha256 !== sha256Hex(req.rawBody) && !(verdict.contentSha256 === UNSIGNED_PAYLOAD && verifiesOwnPayload)) {
        throw unauthenticated('the body does not match its signed hash');
      }
    } else if (hasBody(req)) {
      // A streamed body this guard cannot read: only a route that checks it may take it.
      if (!verifiesOwnPayload) throw unauthenticated('the body cannot be verified against its signed hash');
    } else if (verdict.contentSha256 !== EMPTY_SHA256 && verdict.contentSha256 !== UNSIGNED_PAYLOAD) {
      throw unauthenticated('the body does not match its signed hash');
    }
    return { kind: 'service', name: verdict.caller };
  }
}

/** Puts every HTTP route of an app behind the cluster guard (services do it in startService). */
export function applyClusterAuth(app: INestApplication, credentials: ClusterCredentials, config: Pick<BaseServiceConfig, 'CAIRN_METRICS_AUTH'>): void {
  app.useGlobalGuards(new ClusterAuthGuard(app.get(Reflector), credentials, config));
}
