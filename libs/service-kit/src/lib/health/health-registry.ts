import { Injectable } from '@nestjs/common';

/** A readiness check of one dependency: resolves with details when usable, throws when not. */
export type DependencyCheck = () => Promise<Record<string, unknown>>;

export const HEALTH_CHECK_TIMEOUT_MS = 2_000;

/**
 * The dependencies this service needs to be ready. Modules that own a connection register its
 * check; /health runs them all. Extra details (a storage node's capacity) register as info.
 */
@Injectable()
export class HealthRegistry {
  private readonly checks = new Map<string, DependencyCheck>();
  private readonly infos = new Map<string, () => unknown>();

  register(name: string, check: DependencyCheck): void {
    this.checks.set(name, check);
  }

  registerInfo(name: string, info: () => unknown): void {
    this.infos.set(name, info);
  }

  entries(): [string, DependencyCheck][] {
    return [...this.checks.entries()];
  }

  info(): Record<string, unknown> {
    return Object.fromEntries([...this.infos.entries()].map(([name, info]) => [name, info()]));
  }
}

export function withTimeout<T>(work: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    work,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not answer within ${timeoutMs} ms`)), timeoutMs);
      timer.unref();
    }),
  ]).finally(() => clearTimeout(timer));
}
