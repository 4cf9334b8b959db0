import { SetMetadata } from '@nestjs/common';

/**
 * Who may call an HTTP route. Every route is `cluster` unless it says otherwise, so a route added
 * without a thought is closed, not open.
 * - `public`: anyone (liveness and readiness probes).
 * - `cluster`: only another Cairn service, by a request signed with the cluster secret.
 * - `operator`: a Cairn service, or an operator token: `admin` for anything, `read-only` for
 *   GET and HEAD only.
 * - `metrics`: `operator`, or `public` where CAIRN_METRICS_AUTH=public.
 */
export type RouteAccess = 'public' | 'cluster' | 'operator' | 'metrics';

export const ROUTE_ACCESS = 'cairn:route-access';
export const VERIFIES_OWN_PAYLOAD = 'cairn:verifies-own-payload';

/** Sets who may call the routes of a controller, or one route (the route's own setting wins). */
export const Access = (access: RouteAccess) => SetMetadata(ROUTE_ACCESS, access);

/**
 * For a route whose body is streamed and checked by the route itself (a chunk PUT verifies the
 * bytes against the content hash in its path): a signed caller may send it UNSIGNED-PAYLOAD.
 */
export const VerifiesOwnPayload = () => SetMetadata(VERIFIES_OWN_PAYLOAD, true);
