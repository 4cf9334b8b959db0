import { BadRequestException, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import type { Observable } from 'rxjs';

/**
 * How deep a JSON request body may nest. No Cairn request nests past a handful of levels; Nest's
 * ValidationPipe walks a body recursively (stripProtoKeys, class-transformer), so a body of a few
 * thousand nested arrays overflowed the stack there and was answered 500.
 */
export const MAX_BODY_DEPTH = 32;

/** What is wrong with a request's input (a body, the query, the path parameters), or null. */
export function untrustedInputProblem(value: unknown, maxDepth: number): 'too deep' | 'NUL' | null {
  const pending: { readonly value: unknown; readonly depth: number }[] = [{ value, depth: 0 }];
  while (pending.length > 0) {
    const next = pending.pop()!;
    if (typeof next.value === 'string') {
      if (next.value.includes('\u0000')) return 'NUL';
      continue;
    }
    if (next.value === null || typeof next.value !== 'object' || Buffer.isBuffer(next.value)) continue;
    if (next.depth >= maxDepth) return 'too deep';
    for (const [name, child] of Object.entries(next.value)) pending.push({ value: name, depth: next.depth + 1 }, { value: child, depth: next.depth + 1 });
  }
  return null;
}

type HttpRequestInput = IncomingMessage & { body?: unknown; query?: unknown; params?: unknown };

/**
 * Refuses (400) an HTTP request whose input no Cairn route takes, before any pipe or handler sees
 * it: a JSON body nested past MAX_BODY_DEPTH, and text holding NUL (U+0000) in the body, the query
 * or a path parameter, which Postgres stores in neither text nor jsonb (metadata's admin API
 * answered `GET /admin/buckets/%00` with 500). HTTP only: RPC and events over NATS are signed by
 * the cluster and pass as they are. Iterative, so any depth is safe to look at.
 */
export class UntrustedInputInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() === 'http') {
      const req = context.switchToHttp().getRequest<HttpRequestInput>();
      for (const [part, value, maxDepth] of [
        ['body', req.body, MAX_BODY_DEPTH],
        ['query', req.query, Number.POSITIVE_INFINITY],
        ['path', req.params, Number.POSITIVE_INFINITY],
      ] as const) {
        const problem = untrustedInputProblem(value, maxDepth);
        if (problem === 'too deep') throw new BadRequestException(`a request body may nest at most ${MAX_BODY_DEPTH} levels of objects and arrays`);
        if (problem === 'NUL') throw new BadRequestException(`text in the request's ${part} cannot contain NUL (U+0000)`);
      }
    }
    return next.handle();
  }
}
