import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { trace } from '@opentelemetry/api';
import type { Logger } from 'pino';
import { Counter, Histogram, type Registry } from 'prom-client';
import { aclRequirementOf, CairnError, isOperatorRole, MetadataErrorCodes, OPERATOR_ROLES, type AccessControlList, type BucketView, type OperatorRole, type OperatorTokenClaims } from '@cairn/protocol';
import { MAX_REQUEST_HEADERS, markRefusal, type UnparsableRequest, type UnparsableRequestAnswer } from '@cairn/service-kit';
import { ANONYMOUS_CALLER, S3Error, isAnonymousRequest, parseRequestTarget, renderS3ErrorXml, routeS3Request, type RequestTarget, type RoutingConfig, type S3Operation, type SigV4Verifier } from '../s3';
import { bucketArn, copySourceTargetOf, objectArn, policyTargetOf, type PolicyTarget } from '../domain/bucket-policy/s3-policy-request';
import type { ChangeFeedHandler } from '../change-feed/change-feed.handler';
import { isChangeFeedPath } from '../change-feed/change-feed.request';
import { applyCorsHeaders } from './bucket-cors.handlers';
import { BucketPolicyAuthorizer } from './bucket-policy.authorizer';
import { isKeyAdminPath, type KeyAdminHandler } from '../encryption/key-admin.handler';
import { isAbsent, mapError } from './metadata-errors';
import { S3Exchange, type S3Handler } from './s3-exchange';
import { expectsContinue, settleUnreadBody } from './refused-body';

/** The object a request names (its key, and version when one is named). */
interface ObjectNamed {
  readonly key: string;
  readonly versionId?: string;
}

/** What S3 puts in the Server header; clients ignore it, people read it. */
export const S3_SERVER_HEADER = 'Cairn';
/** A socket that sends or takes nothing for this long is cut (slow-loris bodies, stalled readers). */
export const S3_SOCKET_IDLE_TIMEOUT_MS = 60_000;
/** Service endpoints that stay anonymous; an S3 request to a bucket of the same name is signed. */
const SERVICE_PATH_PATTERN = /^\/(health|metrics|docs)(\/|\?|$)/;
const SERVICE_AUTHORIZATION_PATTERN = /^(Bearer|Cairn-HMAC-SHA256) /;
const PRESIGNED_QUERY_PATTERN = /[?&]X-Amz-(Algorithm|Credential|Signature)=/i;

export interface S3GatewayOptions {
  readonly verifier: SigV4Verifier;
  readonly routing: RoutingConfig;
  readonly handlers: Readonly<Record<S3Operation, S3Handler>>;
  /** The bucket as metadata knows it (NoSuchBucket when absent). */
  readonly bucketOf: (bucket: string) => Promise<BucketView>;
  readonly logger: Logger;
  readonly instance: string;
  readonly nowMs?: () => number;
  /** Mints an operator token for the admin APIs (POST OPERATOR_TOKEN_PATH, root key only). */
  readonly issueOperatorToken?: (request: { readonly role: OperatorRole; readonly label: string; readonly ttlMs?: number }) => { readonly token: string; readonly claims: OperatorTokenClaims };
  /** Where the per-operation request counter and latency histogram are registered (the service's /metrics). */
  readonly metrics?: Registry;
  /** Serves GET /_cairn/changes/<bucket> (docs/change-feed.md), authorized as s3:ListBucket on the bucket. */
  readonly changeFeed?: ChangeFeedHandler;
  /** Serves /_cairn/admin/keys (docs/encryption.md): master key rotation and SSE-KMS keys, root key only. */
  readonly keyAdmin?: KeyAdminHandler;
  /**
   * A version's stored ACL (undefined: none stored), for decisions that S3 makes on the object's
   * ACL (reading an object or its ACL, writing its ACL) in buckets whose ACLs are on. Without it,
   * objects count as private to their bucket's owner.
   */
  readonly objectAclOf?: (bucket: string, key: string, versionId: string | undefined) => Promise<AccessControlList | undefined>;
}

/** Seconds from 1 ms to 5 min: small-object requests at the bottom, multi-GiB uploads and downloads at the top. */
export const S3_DURATION_BUCKETS_SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
/** The operation label of a request refused before it could be routed, and of operator-token requests. */
export const UNROUTED_OPERATION = 'Unknown';
export const ISSUE_OPERATOR_TOKEN_OPERATION = 'IssueOperatorToken';
export const GET_CHANGE_FEED_OPERATION = 'GetChangeFeed';

/**
 * Per-operation S3 figures: `cairn_s3_requests_total{operation,status_class}` (status_class `2xx`…`5xx`,
 * or `aborted` when the client left before the answer was complete) and
 * `cairn_s3_request_duration_seconds{operation}`, from the request's arrival until its whole answer
 * is handed to the socket.
 * Labels come from the bounded S3Operation list, never from buckets or keys.
 */
export class S3RequestMetrics {
  readonly requests: Counter<'operation' | 'status_class'>;
  readonly duration: Histogram<'operation'>;

  constructor(registry: Registry) {
    this.requests = new Counter({
      name: 'cairn_s3_requests_total',
      help: 'S3 requests answered, by operation and status class (aborted: the client left first)',
      labelNames: ['operation', 'status_class'],
      registers: [registry],
    });
    this.duration = new Histogram({
      name: 'cairn_s3_request_duration_seconds',
      help: 'Seconds from an S3 request arriving until its whole answer is handed to the socket, by operation',
      labelNames: ['operation'],
      buckets: S3_DURATION_BUCKETS_SECONDS,
      registers: [registry],
    });
  }

  observe(operation: string, statusClass: string, seconds: number): void {
    this.requests.inc({ operation, status_class: statusClass });
    this.duration.observe({ operation }, seconds);
  }
}

/**
 * Where the root key trades a SigV4 signature for an operator token, so the CLI and dashboard
 * need nothing but the credentials an S3 client already has. No bucket can be named `_cairn`.
 */
export const OPERATOR_TOKEN_PATH = '/_cairn/admin/tokens';
const MAX_OPERATOR_TOKEN_TTL_SECONDS = 366 * 24 * 3600;

/** Operations on a bucket that need no existing bucket to authorize against; they take a signed request. */
const UNOWNED_OPERATIONS: ReadonlySet<S3Operation> = new Set(['ListBuckets', 'CreateBucket']);

/**
 * The one entry point of every S3 request: request ids, routing, SigV4, authorization (ownership
 * and the bucket policy, bucket-policy.authorizer.ts; unsigned requests are anonymous), dispatch to the operation's handler, S3 XML errors. Requests for the service's own
 * endpoints (/health, /metrics, /docs) that carry no signature pass on to Nest.
 */
export class S3Gateway {
  private readonly nowMs: () => number;
  private readonly policies: BucketPolicyAuthorizer;
  private readonly metrics?: S3RequestMetrics;

  constructor(private readonly options: S3GatewayOptions) {
    this.nowMs = options.nowMs ?? Date.now;
    this.policies = new BucketPolicyAuthorizer(this.nowMs, options.logger);
    if (options.metrics) this.metrics = new S3RequestMetrics(options.metrics);
  }

  /**
   * Whether a request is S3's: anything but an unsigned request (or one carrying an operator token or
   * a cluster signature) for the service's own endpoints, which Nest answers.
   */
  claims(req: IncomingMessage): boolean {
    const url = req.url ?? '/';
    // An operator token or a cluster signature is for the service's own endpoints, never S3's.
    const authorization = req.headers.authorization;
    const signedForS3 = (authorization !== undefined && !SERVICE_AUTHORIZATION_PATTERN.test(authorization)) || PRESIGNED_QUERY_PATTERN.test(url);
    return signedForS3 || !SERVICE_PATH_PATTERN.test(url);
  }

  /** Answers an S3 request (one it claims), errors included. */
  answer(req: IncomingMessage, res: ServerResponse): void {
    void this.serve(req, res);
  }

  /**
   * A request with more headers than the service takes (service-kit's MAX_REQUEST_HEADERS), refused
   * whole as S3 refuses an oversized header section; its headers are never cut to fit.
   */
  refuseTooManyHeaders(req: IncomingMessage, res: ServerResponse): void {
    const { requestId, hostId } = this.identify(req, res);
    res.setHeader('Connection', 'close');
    this.sendBareError(req, res, new S3Error('RequestHeaderSectionTooLarge', `A request may carry at most ${MAX_REQUEST_HEADERS} headers.`), requestId, hostId);
  }

  /**
   * A request Node's HTTP parser refused before the gateway could see it (service-kit's
   * answerUnparsableRequests), as S3 XML with S3's codes: a header section over the server's limit
   * as RequestHeaderSectionTooLarge (as with too many headers), headers that did not arrive in time
   * as RequestTimeout, CONNECT as MethodNotAllowed, anything else malformed as InvalidRequest.
   */
  unparsableRequestAnswer(refusal: UnparsableRequest): UnparsableRequestAnswer {
    const error = s3ErrorForUnparsable(refusal);
    const requestId = randomUUID();
    const hostId = createHash('sha256').update(`${this.options.instance}/${requestId}`).digest('base64');
    return {
      status: error.httpStatus,
      contentType: 'application/xml',
      body: renderS3ErrorXml(error, { requestId, hostId }),
      headers: { 'x-amz-request-id': requestId, 'x-amz-id-2': hostId, Server: S3_SERVER_HEADER },
    };
  }

  /** Gives the answer S3's request ids and Server header; the id is the one the request is logged with. */
  private identify(req: IncomingMessage, res: ServerResponse): { readonly requestId: string; readonly hostId: string } {
    const requestId = (req as { id?: unknown }).id ? String((req as { id?: unknown }).id) : randomUUID();
    const hostId = createHash('sha256').update(`${this.options.instance}/${requestId}`).digest('base64');
    res.setHeader('x-amz-request-id', requestId);
    res.setHeader('x-amz-id-2', hostId);
    res.setHeader('Server', S3_SERVER_HEADER);
    return { requestId, hostId };
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { requestId, hostId } = this.identify(req, res);
    req.setTimeout(S3_SOCKET_IDLE_TIMEOUT_MS);
    // The server span service-kit's middleware opened for this request, when tracing is on.
    const span = trace.getActiveSpan();

    let exchange: S3Exchange | undefined;
    let operation: string | undefined;
    const startedNs = this.metrics ? process.hrtime.bigint() : 0n;
    try {
      const target = parseRequestTarget(req.url ?? '/');
      exchange = new S3Exchange(req, res, requestId, hostId, target);
      const signable = { method: exchange.method, target, headers: exchange.headers };
      // No signature at all: anonymous, allowed only where a bucket policy allows everyone. A CORS
      // preflight (OPTIONS) is unsigned by nature: the bucket's CORS configuration alone answers it.
      const preflight = exchange.method === 'OPTIONS';
      exchange.auth = preflight || isAnonymousRequest(signable) ? ANONYMOUS_CALLER : await this.options.verifier.verify(signable, this.nowMs());
      if (target.rawPath === OPERATOR_TOKEN_PATH) {
        operation = ISSUE_OPERATOR_TOKEN_OPERATION;
        span?.updateName(`Cairn ${operation}`);
        this.issueOperatorToken(exchange, target, res);
        return;
      }
      if (this.options.changeFeed && isChangeFeedPath(target.rawPath)) {
        operation = GET_CHANGE_FEED_OPERATION;
        span?.updateName(`Cairn ${operation}`);
        await this.serveChangeFeed(this.options.changeFeed, exchange);
        return;
      }
      if (this.options.keyAdmin && isKeyAdminPath(target.rawPath)) {
        operation = 'KeyAdmin';
        await this.options.keyAdmin.serve(exchange, target);
        return;
      }
      const route = routeS3Request({ method: exchange.method, host: req.headers.host, target, headers: exchange.headers }, this.options.routing);
      exchange.route = route;
      operation = route.operation;
      if (span) {
        span.updateName(`S3 ${route.operation}`);
        span.setAttribute('cairn.s3.operation', route.operation);
        if (route.bucket !== undefined) span.setAttribute('cairn.s3.bucket', route.bucket);
        span.setAttribute('cairn.request_id', requestId);
      }
      if (route.operation === 'PreflightCors' && route.bucket !== undefined) {
        exchange.bucketView = await this.options.bucketOf(route.bucket);
      } else if (route.operation === 'PostObject' && route.bucket !== undefined) {
        // The caller and the key are in the form: the handler authorizes once it has read them.
        const view = await this.options.bucketOf(route.bucket);
        applyCorsHeaders(exchange, view, exchange.res);
        exchange.bucketView = view;
        const ex = exchange;
        exchange.verifyPostSignature = (form) => this.options.verifier.verifyPostPolicy(form);
        exchange.authorizeUpload = (key) => this.policies.check(ex, view, policyTargetOf({ operation: 'PostObject', bucket: view.name, key }));
      } else if (!UNOWNED_OPERATIONS.has(route.operation) && route.bucket !== undefined) {
        const target = policyTargetOf({ operation: route.operation, bucket: route.bucket, key: route.key, versionId: route.versionId });
        const view = await this.authorize(exchange, route.bucket, target, route.key === undefined ? undefined : { key: route.key, versionId: route.versionId });
        exchange.bucketView = view;
        if (route.operation === 'DeleteObjects') exchange.mayDeleteObject = this.policies.objectDeleteCheck(exchange, view);
        const bypasser = exchange;
        if (bypasser.header('x-amz-bypass-governance-retention')?.toLowerCase() === 'true') {
          bypasser.mayBypassGovernance = (key) => this.policies.allows(bypasser, view, { action: 's3:BypassGovernanceRetention', resource: objectArn(view.name, key) });
        }
      } else if (exchange.caller.via === 'anonymous') {
        throw new S3Error('AccessDenied', 'Anonymous access is not allowed.');
      }
      if (route.copySource) await this.authorize(exchange, route.copySource.bucket, copySourceTargetOf(route.copySource), route.copySource);
      // `Expect: 100-continue`: the client waits for this before sending its body, so a refused
      // request (above) costs it no upload; the server no longer answers 100 by itself (checkContinue).
      if (expectsContinue(req) && !res.headersSent) res.writeContinue();
      await this.options.handlers[route.operation](exchange);
    } catch (error) {
      if (clientWentAway(req, res, error)) {
        // Nobody is left to answer: routine for a client that hung up or was cut for idling.
        this.options.logger.debug({ err: error, requestId }, 'S3 client went away mid-request');
        res.destroy();
        return;
      }
      const mapped = mapError(error);
      if (mapped.internal) this.options.logger.error({ err: error, requestId }, 'S3 request failed');
      // A refusal expected in operation (a region without free space), told to the client: its
      // request line is the one line logged, at warn with the reason.
      else if (mapped.refusal !== undefined) markRefusal(res, mapped.refusal);
      // S3's answer to a feature Cairn lacks (501) is no fault of ours, and anyone may ask for one
      // unsigned: one warn line with the reason, never an error line with a stack.
      else if (mapped.error.code === 'NotImplemented') markRefusal(res, `NotImplemented: ${mapped.error.message}`);
      span?.setAttribute('cairn.s3.error_code', mapped.error.code);
      settleUnreadBody(req, res);
      if (exchange) exchange.sendError(mapped.error, mapped.headers);
      else this.sendBareError(req, res, mapped.error, requestId, hostId);
    } finally {
      if (this.metrics) this.record(req, res, operation, startedNs);
    }
  }

  /**
   * Counts and times a request once the gateway is done with it (handlers return once their answer
   * is handed to the socket, so no listener on the response is needed). One refused before routing
   * (a bad signature, say) is labelled by routing it for the label alone.
   */
  private record(req: IncomingMessage, res: ServerResponse, operation: string | undefined, startedNs: bigint): void {
    const seconds = Number(process.hrtime.bigint() - startedNs) / 1e9;
    const answered = res.writableEnded && !(res.destroyed && !res.writableFinished);
    const statusClass = answered ? `${Math.floor(res.statusCode / 100)}xx` : 'aborted';
    this.metrics?.observe(operation ?? this.operationForLabel(req), statusClass, seconds);
  }

  private operationForLabel(req: IncomingMessage): string {
    try {
      const target = parseRequestTarget(req.url ?? '/');
      if (this.options.changeFeed && isChangeFeedPath(target.rawPath)) return GET_CHANGE_FEED_OPERATION;
      return routeS3Request({ method: (req.method ?? 'GET').toUpperCase(), host: req.headers.host, target, headers: req.headers as S3Exchange['headers'] }, this.options.routing).operation;
    } catch {
      return UNROUTED_OPERATION;
    }
  }

  private issueOperatorToken(exchange: S3Exchange, target: RequestTarget, res: ServerResponse): void {
    if (exchange.method !== 'POST') throw new S3Error('MethodNotAllowed', `${OPERATOR_TOKEN_PATH} takes POST only.`);
    if (!exchange.caller.isRoot || !this.options.issueOperatorToken) throw new S3Error('AccessDenied', 'Only the root key may issue operator tokens.');
    const param = (name: string) => target.query.find((q) => q.name === name)?.value;
    const role = param('role') ?? 'admin';
    if (!isOperatorRole(role)) throw new S3Error('InvalidArgument', `role must be one of: ${OPERATOR_ROLES.join(', ')}.`);
    const label = param('label') ?? '';
    if (!/^[\x20-\x7e]{0,64}$/.test(label)) throw new S3Error('InvalidArgument', 'label must be up to 64 printable ASCII characters.');
    const ttlText = param('ttlSeconds');
    const ttlSeconds = ttlText === undefined ? undefined : /^\d{1,9}$/.test(ttlText) ? Number(ttlText) : NaN;
    if (ttlSeconds !== undefined && !(ttlSeconds >= 60 && ttlSeconds <= MAX_OPERATOR_TOKEN_TTL_SECONDS)) {
      throw new S3Error('InvalidArgument', `ttlSeconds must be a whole number from 60 to ${MAX_OPERATOR_TOKEN_TTL_SECONDS}.`);
    }
    const { token, claims } = this.options.issueOperatorToken({ role, label, ttlMs: ttlSeconds === undefined ? undefined : ttlSeconds * 1000 });
    this.options.logger.info({ tokenId: claims.id, role: claims.role, label: claims.label, accessKeyId: exchange.caller.accessKeyId }, 'operator token issued to the root key');
    const body = JSON.stringify({ token, id: claims.id, role: claims.role, label: claims.label, expiresAt: new Date(claims.expiresAtMs).toISOString() });
    res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
    res.end(body);
  }

  /** The change feed reads a bucket as a listing does: s3:ListBucket, checked again as an SSE stream goes on. */
  private async serveChangeFeed(changeFeed: ChangeFeedHandler, exchange: S3Exchange): Promise<void> {
    const request = changeFeed.parse(exchange);
    const target: PolicyTarget = { action: 's3:ListBucket', resource: bucketArn(request.bucket) };
    const view = await this.authorize(exchange, request.bucket, target);
    exchange.bucketView = view;
    await changeFeed.serve(exchange, request, view, () => this.authorize(exchange, request.bucket, target));
  }

  /** Root touches every bucket; the owner its own unless the policy denies it; others where the policy allows. */
  private async authorize(exchange: S3Exchange, bucket: string, target: PolicyTarget | undefined, object?: ObjectNamed): Promise<BucketView> {
    const view = await this.options.bucketOf(bucket);
    // The request's own bucket (not a copy source) lends its CORS headers, refusals included.
    if (bucket === exchange.route?.bucket) applyCorsHeaders(exchange, view, exchange.res);
    this.policies.check(exchange, view, target, await this.objectAclFor(exchange, view, target, object));
    return view;
  }

  /**
   * The object's ACL when the decision depends on it: an action S3 decides on the object's ACL, in
   * a bucket whose ACLs are on, for anyone but the root key. One metadata read (the key's own
   * subject, cached there); buckets under BucketOwnerEnforced (the default) never pay it. An
   * absent version has no ACL: the decision is then the bucket's, and the handler answers
   * NoSuchKey to whoever may know.
   */
  private async objectAclFor(exchange: S3Exchange, view: BucketView, target: PolicyTarget | undefined, object: ObjectNamed | undefined): Promise<AccessControlList | undefined> {
    if (!this.options.objectAclOf || object === undefined || target === undefined || view.objectOwnership === 'BucketOwnerEnforced') return undefined;
    if (exchange.caller.via !== 'anonymous' && exchange.caller.isRoot) return undefined;
    if (aclRequirementOf(target.action)?.on !== 'object') return undefined;
    try {
      return await this.options.objectAclOf(view.name, object.key, object.versionId);
    } catch (error) {
      if (isAbsent(error) || (error instanceof CairnError && error.code === MetadataErrorCodes.MethodNotAllowed)) return undefined;
      throw error;
    }
  }

  private sendBareError(req: IncomingMessage, res: ServerResponse, error: S3Error, requestId: string, hostId: string): void {
    const exchange = new S3Exchange(req, res, requestId, hostId, { rawPath: (req.url ?? '/').split('?')[0], path: '/', query: [] });
    exchange.sendError(error);
  }
}

function s3ErrorForUnparsable(refusal: UnparsableRequest): S3Error {
  switch (refusal.status) {
    case 431:
      return new S3Error('RequestHeaderSectionTooLarge');
    case 408:
      return new S3Error('RequestTimeout');
    case 405:
      return new S3Error('MethodNotAllowed', undefined, { Method: refusal.reason });
    default:
      return new S3Error('InvalidRequest', `The request could not be read as HTTP/1.1 (${refusal.reason}).`);
  }
}

/** What a stream throws when the peer goes away: the request cut short, the response's socket gone. */
const CLIENT_GONE_ERROR_CODES: ReadonlySet<string> = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE', 'ERR_STREAM_DESTROYED']);

/**
 * Whether a failure is the client's leaving: its connection is gone (the request cut short or the
 * response's socket destroyed) and the error is what that makes streams throw. Anything else is
 * still ours to log, even if the client left meanwhile.
 */
function clientWentAway(req: IncomingMessage, res: ServerResponse, error: unknown): boolean {
  const connectionGone = (req.destroyed && !req.complete) || (res.destroyed && !res.writableFinished);
  if (!connectionGone) return false;
  if (error instanceof S3Error) return error.code === 'IncompleteBody' || error.code === 'RequestTimeout';
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && CLIENT_GONE_ERROR_CODES.has(code);
}

/**
 * Makes the HTTP server hand `Expect: 100-continue` requests to the gateway like any other, instead
 * of answering 100 before anyone has looked at them: the gateway sends 100 once the request is
 * authenticated and authorized (S3Gateway.serve), or its refusal without reading the body.
 */
export function answerContinueAfterAuthorization(server: { on(event: 'checkContinue', listener: (req: IncomingMessage, res: ServerResponse) => void): unknown; emit(event: 'request', req: IncomingMessage, res: ServerResponse): boolean }): void {
  server.on('checkContinue', (req, res) => server.emit('request', req, res));
}
