import { Injectable } from '@nestjs/common';
import { RedisConnection } from '@cairn/service-kit';

/**
 * What the scheduler keeps between runs and shares between its instances, in Redis under the
 * namespace's prefix: job reports, scrub cursors, garbage-collection candidates.
 */
@Injectable()
export class SchedulerStateStore {
  constructor(private readonly redis: RedisConnection) {}

  private key(name: string): string {
    return `${this.redis.options.keyPrefix}scheduler:${name}`;
  }

  async getJson<T>(name: string): Promise<T | null> {
    const raw = await this.redis.client.get(this.key(name));
    return raw === null ? null : (JSON.parse(raw) as T);
  }

  async setJson(name: string, value: unknown): Promise<void> {
    await this.redis.client.set(this.key(name), JSON.stringify(value));
  }

  /** Every field of a Redis hash, as numbers (GC candidates: hash -> first seen unreferenced). */
  async hashNumbers(name: string): Promise<Map<string, number>> {
    const raw = await this.redis.client.hgetall(this.key(name));
    return new Map(Object.entries(raw).map(([k, v]) => [k, Number(v)]));
  }

  async replaceHashNumbers(name: string, values: ReadonlyMap<string, number>): Promise<void> {
    const key = this.key(name);
    const multi = this.redis.client.multi().del(key);
    if (values.size > 0) multi.hset(key, Object.fromEntries([...values].map(([k, v]) => [k, String(v)])));
    await multi.exec();
  }

  /** A short lock between scheduler instances (SET NX PX); true when taken. */
  async tryLock(name: string, owner: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.client.set(this.key(`lock:${name}`), owner, 'PX', ttlMs, 'NX')) === 'OK';
  }

  async unlock(name: string, owner: string): Promise<void> {
    const key = this.key(`lock:${name}`);
    if ((await this.redis.client.get(key)) === owner) await this.redis.client.del(key);
  }
}
