import { TransformationType, type ClassConstructor } from 'class-transformer';
import type { MetadataStorage as TransformerMetadataStorage } from 'class-transformer/types/MetadataStorage';
import { getMetadataStorage, isIn, isInt, isString, length, matches, max, min } from 'class-validator';

// class-transformer keeps its decorators' metadata in a storage its index does not export.
const transformerMetadata = (require('class-transformer/cjs/storage') as { defaultMetadataStorage: TransformerMetadataStorage }).defaultMetadataStorage;

/**
 * A fast accept-only check of a request DTO, compiled once from the DTO's own class-validator
 * decorators, for the lock RPCs (class-transformer and class-validator cost more per request than
 * the lock table does). It only ever says "valid, here is the instance" for a payload that
 * plainToInstance + validate (whitelist, forbidNonWhitelisted, forbidUnknownValues) would accept
 * and turn into the same instance; for anything else it says `undefined`, and the caller runs
 * class-validator, which words the error. A DTO using any decorator or option this does not know
 * gets no fast check at all.
 */
export type DtoCheck<T> = (payload: Readonly<Record<string, unknown>>) => T | undefined;

type Predicate = (value: unknown) => boolean;

/** The same functions class-validator's decorators call, by the name it records them under. */
const CONSTRAINTS: Readonly<Record<string, (constraints: readonly unknown[]) => Predicate>> = {
  isString: () => (v) => isString(v),
  isLength: ([lo, hi]) => (v) => length(v, lo as number, hi as number),
  isInt: () => (v) => isInt(v),
  min: ([bound]) => (v) => min(v, bound as number),
  max: ([bound]) => (v) => max(v, bound as number),
  isIn: ([values]) => (v) => isIn(v, values as readonly unknown[]),
  matches: ([pattern, modifiers]) => (v) => (matches as (value: unknown, pattern: unknown, modifiers: unknown) => boolean)(v, pattern, modifiers),
};

interface FieldCheck {
  readonly property: string;
  /** @IsOptional: null and undefined skip the field's other rules. */
  readonly optional: boolean;
  readonly rules: readonly Predicate[];
}

const compiled = new Map<ClassConstructor<object>, DtoCheck<object> | null>();

export function compiledDtoCheck<T extends object>(dto: ClassConstructor<T>): DtoCheck<T> | undefined {
  if (!compiled.has(dto)) compiled.set(dto, compile(dto));
  return (compiled.get(dto) ?? undefined) as DtoCheck<T> | undefined;
}

function compile<T extends object>(dto: ClassConstructor<T>): DtoCheck<T> | null {
  const metadata = getMetadataStorage().getTargetValidationMetadatas(dto, '', false, false);
  const fields = new Map<string, { optional: boolean; rules: Predicate[] }>();
  for (const m of metadata) {
    if (m.each || m.always || (m.groups && m.groups.length > 0) || m.context !== undefined || typeof m.propertyName !== 'string') return null;
    const field = fields.get(m.propertyName) ?? { optional: false, rules: [] };
    fields.set(m.propertyName, field);
    if (m.type === 'conditionalValidation' && m.name === 'isOptional') field.optional = true;
    else if (m.type === 'customValidation' && m.name !== undefined && m.name in CONSTRAINTS) field.rules.push(CONSTRAINTS[m.name](m.constraints ?? []));
    else return null;
  }
  if (transformsPlainValues(dto, [...fields.keys()])) return null;
  const checks: FieldCheck[] = [...fields].map(([property, f]) => ({ property, optional: f.optional, rules: f.rules }));
  const whitelisted = new Set(fields.keys());
  return (payload) => {
    const instance = new dto() as Record<string, unknown>;
    for (const key of Object.keys(payload)) {
      const value = payload[key];
      // Nested objects and arrays are class-transformer's to turn into something: leave them to it.
      if (!whitelisted.has(key) || (value !== null && typeof value === 'object')) return undefined;
      instance[key] = value;
    }
    for (const { property, optional, rules } of checks) {
      const value = instance[property];
      if (optional && (value === null || value === undefined)) continue;
      for (const rule of rules) if (!rule(value)) return undefined;
    }
    return instance as T;
  };
}

/** Whether plainToInstance would do more with the DTO than copy its plain fields (@Transform, @Type, @Expose, @Exclude). */
function transformsPlainValues(dto: ClassConstructor<object>, properties: readonly string[]): boolean {
  if (transformerMetadata.getStrategy(dto) !== 'none') return true;
  if (transformerMetadata.getExposedMetadatas(dto).length > 0 || transformerMetadata.getExcludedMetadatas(dto).length > 0) return true;
  return properties.some(
    (p) => transformerMetadata.findTransformMetadatas(dto, p, TransformationType.PLAIN_TO_CLASS).length > 0 || transformerMetadata.findTypeMetadata(dto, p) !== undefined,
  );
}
