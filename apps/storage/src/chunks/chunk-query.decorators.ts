import { applyDecorators } from '@nestjs/common';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Matches, Max, Min } from 'class-validator';

/** An optional query parameter holding a hash or hash prefix: lowercase hex, at most 64 digits. */
export function OptionalHexQuery(name: string): PropertyDecorator {
  return applyDecorators(IsOptional(), Matches(/^[0-9a-f]{0,64}$/, { message: `${name} must be lowercase hex` }));
}

/** An optional query parameter holding a whole number from 1 to `max` (the property's initialiser is its default). */
export function OptionalCountQuery(max: number): PropertyDecorator {
  return applyDecorators(IsOptional(), Type(() => Number), IsInt(), Min(1), Max(max));
}
