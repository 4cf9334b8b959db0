import { BadRequestException, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';

/**
 * How deep a JSON request body may nest. No Cairn request nests past a handful of levels; Nest's
 * ValidationPipe walks a body recursively (stripProtoKeys, class-transformer), so a body of a few
 * thousand nested arrays overflowed the stack there and was answered 500.
 */
export const MAX_BODY_DEPTH = 32;

/** Whether `value` nests objects or arrays more than `max` levels deep; iterative, so any depth is safe to ask about. */
export function nestsDeeperThan(value: unknown, max: number): boolean {
  const pending: { readonly value: unknown; readonly depth: number }[] = [{ value, depth: 0 }];
  while (pending.length > 0) {
    const next = pending.pop()!;
    if (next.value === null || typeof next.value !== 'object') continue;
    if (next.depth >= max) return true;
    for (const child of Object.values(next.value)) pending.push({ value: child, depth: next.depth + 1 });
  }
  return false;
}

/** Refuses (400) a request body nested past MAX_BODY_DEPTH before any other pipe walks it. */
export class BodyDepthPipe implements PipeTransform {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if (metadata.type === 'body' && nestsDeeperThan(value, MAX_BODY_DEPTH)) {
      throw new BadRequestException(`a request body may nest at most ${MAX_BODY_DEPTH} levels of objects and arrays`);
    }
    return value;
  }
}
