import * as fs from 'node:fs';
import { S3Client } from '@aws-sdk/client-s3';
import { FaultProxyClient } from '@cairn/fault-proxy';
import { Agent, request, type Dispatcher } from 'undici';
import { DrillError, type DrillAdmin, type DrillLinks, type DrillRegion } from './drill-run';

const ADMIN_TIMEOUT_MS = 60_000;
const DEFAULT_SIGNING_REGION = 'us-east-1';

/** One region as a federation profile lists it (start:regions' .cairn/regions/profile.json, `regions.<name>`). */
export interface DrillProfileRegion {
  readonly name: string;
  readonly endpoints: { readonly access: string; readonly metadata: string; readonly sync: string };
  readonly operatorToken: string;
  readonly s3: { readonly accessKeyId: string; readonly secretAccessKey: string; readonly signingRegion: string };
}

export interface DrillProfile {
  readonly regions: readonly DrillProfileRegion[];
  readonly faultProxy: string;
  readonly caFile: string | null;
}

/**
 * A federation profile (the file start:regions writes, and the CLI reads with --profile) checked
 * for what a drill needs: every region's S3 and admin endpoints, an operator token and S3 keys, and
 * the fault proxy. Pure: the scheduler checks it when it starts, not at its first drill.
 */
export function drillProfileOf(json: unknown): DrillProfile {
  const invalid = (what: string) => new DrillError('usage', `the drill profile ${what}`);
  const obj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  const url = (v: unknown) => typeof v === 'string' && /^https?:\/\/\S+$/.test(v);
  if (!obj(json)) throw invalid('must be a JSON object');
  if (!url(json['faultProxy'])) throw invalid('names no fault proxy (faultProxy: its control API URL): a drill cuts a region\'s links through it');
  if (!obj(json['regions'])) throw invalid('lists no regions (regions: { <name>: <profile> })');
  const regions = Object.entries(json['regions'])
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, r]): DrillProfileRegion => {
      if (!obj(r) || !obj(r['endpoints'])) throw invalid(`has no endpoints for ${name}`);
      const endpoints = r['endpoints'];
      for (const service of ['access', 'metadata', 'sync']) if (!url(endpoints[service])) throw invalid(`has no ${service} endpoint for ${name}`);
      if (typeof r['operatorToken'] !== 'string' || r['operatorToken'] === '') throw invalid(`has no operator token for ${name}`);
      const s3 = r['s3'];
      if (!obj(s3) || typeof s3['accessKeyId'] !== 'string' || typeof s3['secretAccessKey'] !== 'string') throw invalid(`has no S3 keys for ${name}: the drill writes as an S3 client`);
      return {
        name,
        endpoints: { access: endpoints['access'] as string, metadata: endpoints['metadata'] as string, sync: endpoints['sync'] as string },
        operatorToken: r['operatorToken'],
        s3: { accessKeyId: s3['accessKeyId'], secretAccessKey: s3['secretAccessKey'], signingRegion: typeof s3['region'] === 'string' ? s3['region'] : DEFAULT_SIGNING_REGION },
      };
    });
  if (regions.length < 3) throw invalid(`lists ${regions.length} regions: a drill needs at least three (a majority must remain to fail over)`);
  return { regions, faultProxy: json['faultProxy'] as string, caFile: typeof json['caFile'] === 'string' ? json['caFile'] : null };
}

/** A federation to drill, opened from a profile: S3 clients and admin calls per region, the fault proxy's links. */
export interface OpenDrillFederation {
  readonly regions: readonly DrillRegion[];
  readonly links: DrillLinks;
  close(): Promise<void>;
}

export function openDrillFederation(profile: DrillProfile): OpenDrillFederation {
  const ca = profile.caFile ? fs.readFileSync(profile.caFile) : undefined;
  const dispatcher = new Agent({ connect: ca ? { ca } : {}, headersTimeout: ADMIN_TIMEOUT_MS, bodyTimeout: ADMIN_TIMEOUT_MS });
  const regions = profile.regions.map((r): DrillRegion => ({
    name: r.name,
    s3: new S3Client({
      endpoint: r.endpoints.access,
      region: r.s3.signingRegion,
      forcePathStyle: true,
      credentials: { accessKeyId: r.s3.accessKeyId, secretAccessKey: r.s3.secretAccessKey },
      maxAttempts: 1,
    }),
    admin: new TokenAdmin(r, dispatcher),
  }));
  const proxy = new FaultProxyClient(profile.faultProxy);
  return {
    regions,
    links: { cut: (region) => proxy.cut(region), heal: (region) => proxy.heal(region) },
    async close() {
      for (const r of regions) r.s3.destroy();
      await dispatcher.close();
    },
  };
}

/** A region's admin APIs with its operator token as the Bearer credential. */
class TokenAdmin implements DrillAdmin {
  constructor(
    private readonly region: DrillProfileRegion,
    private readonly dispatcher: Dispatcher,
  ) {}

  async call<T>(service: 'metadata' | 'sync', method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.region.operatorToken}`, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await request(`${this.region.endpoints[service]}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), dispatcher: this.dispatcher });
    const text = await res.body.text();
    if (res.statusCode < 200 || res.statusCode >= 300) {
      const message = (() => {
        try {
          return (JSON.parse(text) as { message?: string }).message ?? text;
        } catch {
          return text;
        }
      })();
      throw new Error(`${this.region.name} ${service} ${method} ${path}: HTTP ${res.statusCode} ${message.slice(0, 500)}`);
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }
}
