import { ClusterKeys, type OperatorRole } from '@cairn/protocol';
import { ClusterCredentials, resolveClusterSecret } from '@cairn/service-kit';
import { Agent, request, type Dispatcher } from 'undici';

/**
 * Tests call services the way services call each other: signed with the cluster secret the test
 * environment sets (the Jest setup file jest-env.js), or with an operator token minted from it.
 */
export function testClusterCredentials(caller = 'test/runner'): ClusterCredentials {
  return new ClusterCredentials(new ClusterKeys(resolveClusterSecret({ CAIRN_CLUSTER_SECRET: process.env['CAIRN_CLUSTER_SECRET'] })), caller, 30_000);
}

let sharedDispatcher: Dispatcher | undefined;

/** An undici dispatcher that signs every request it sends. */
export function signedDispatcher(): Dispatcher {
  sharedDispatcher ??= new Agent().compose(testClusterCredentials().httpInterceptor());
  return sharedDispatcher;
}

/** undici's `request`, signed as a Cairn service. */
export function signedRequest(url: string | URL, options: Omit<Dispatcher.RequestOptions, 'origin' | 'path' | 'method'> & { method?: Dispatcher.HttpMethod } = {}) {
  return request(url, { ...options, dispatcher: signedDispatcher() });
}

/** `fetch`, signed as a Cairn service (string or byte bodies only, hashed into the signature). */
export function signedFetch(url: string | URL, init: { method?: string; headers?: Record<string, string>; body?: string | Uint8Array } = {}): Promise<Response> {
  const target = new URL(url);
  const headers = { ...(init.headers ?? {}) };
  if (typeof init.body === 'string' && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
  const signed = testClusterCredentials().signHttp({
    method: init.method ?? 'GET',
    pathAndQuery: target.pathname + target.search,
    headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])),
    body: init.body,
  });
  return fetch(target, { method: init.method, headers: { ...headers, ...signed }, body: init.body });
}

/** An operator token of the test cluster. */
export function testOperatorToken(role: OperatorRole = 'admin', ttlMs?: number): string {
  return testClusterCredentials().mintOperatorToken({ role, label: 'test', ttlMs }).token;
}
