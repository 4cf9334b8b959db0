import { BadRequestException, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';

/**
 * How deep a JSON request body may nest. No Cairn request nests past a handful of levels; Nest's
 * ValidationPipe walks a body recursively (stripProtoKeys, class-transformer), so a body of a few
 * thousand nested arrays overflowed the stack there and was answered 500.
 */
export const MAX_BODY_DEPTH = 32;

/** What is wrong with a request's input (a body, the query, a path parameter), or null. */
export function untrustedInputProblem(value: unknown, maxDepth: number): 'too deep' | 'NUL' | null {
  const pending: { readonly value: unknown; readonly depth: number }[] = [{ value, depth: 0 }];
  while (pending.length > 0) {
    const next = pending.pop()!;
    if (typeof next.value === 'string') {
      if (next.value.includes('\u0000')) return 'NUL';
      continue;
    }
    if (next.value === null || typeof next.value !== 'object') continue;
    if (next.depth >= maxDepth) return 'too deep';
    for (const [name, child] of Object.entries(next.value)) pending.push({ value: name, depth: next.depth + 1 }, { value: child, depth: next.depth + 1 });
  }
  return null;
}

/**
 * Refuses (400), before any other pipe or handler sees it, input no Cairn route takes: a body nested
 * past MAX_BODY_DEPTH, and text holding NUL (U+0000) in a body, the query or a path parameter,
 * which Postgres stores in neither text nor jsonb (a query with one failed: 500). Iterative, so any
 * depth is safe to look at.
 */
export class UntrustedInputPipe implements PipeTransform {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if (metadata.type === 'custom') return value;
    const problem = untrustedInputProblem(value, metadata.type === 'body' ? MAX_BODY_DEPTH : Number.POSITIVE_INFINITY);
    if (problem === 'too deep') throw new BadRequestException(`a request body may nest at most ${MAX_BODY_DEPTH} levels of objects and arrays`);
    if (problem === 'NUL') throw new BadRequestException(`text in the request's ${metadata.type === 'param' ? 'path' : metadata.type} cannot contain NUL (U+0000)`);
    return value;
  }
}
