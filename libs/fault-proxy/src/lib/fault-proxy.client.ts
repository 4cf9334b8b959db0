import type { LinkStatus } from './fault-proxy';

/** Longest a control call may take. */
const CONTROL_TIMEOUT_MS = 5_000;

/** Talks to a fault proxy's control API (control-api.ts), e.g. http://127.0.0.1:9990. */
export class FaultProxyClient {
  constructor(readonly baseUrl: string) {}

  async links(): Promise<LinkStatus[]> {
    return ((await this.call('GET', '/links')) as { links: LinkStatus[] }).links;
  }

  link(name: string): Promise<LinkStatus> {
    return this.call('GET', `/links/${encodeURIComponent(name)}`) as Promise<LinkStatus>;
  }

  cut(name: string): Promise<LinkStatus> {
    return this.action(name, 'cut');
  }

  heal(name: string): Promise<LinkStatus> {
    return this.action(name, 'heal');
  }

  latency(name: string, ms: number): Promise<LinkStatus> {
    return this.action(name, 'latency', { ms });
  }

  throttle(name: string, bytesPerSecond: number): Promise<LinkStatus> {
    return this.action(name, 'throttle', { bytesPerSecond });
  }

  /** Without a name: every link. */
  async reset(name?: string): Promise<void> {
    await (name ? this.action(name, 'reset') : this.call('POST', '/reset'));
  }

  private action(name: string, action: string, body?: unknown): Promise<LinkStatus> {
    return this.call('POST', `/links/${encodeURIComponent(name)}/${action}`, body) as Promise<LinkStatus>;
  }

  private async call(method: string, path: string, body?: unknown): Promise<unknown> {
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(CONTROL_TIMEOUT_MS),
    });
    const value = (await res.json()) as { message?: string };
    if (!res.ok) throw new Error(`fault proxy ${method} ${path}: ${res.status} ${value.message ?? ''}`);
    return value;
  }
}
