import { usageError } from './exit-codes';

/** The services whose admin APIs the CLI calls, and the S3 endpoint that trades root keys for tokens. */
export const ENDPOINT_SERVICES = ['access', 'metadata', 'scheduler', 'monitoring', 'sync'] as const;
export type EndpointService = (typeof ENDPOINT_SERVICES)[number];
export type Endpoints = Readonly<Record<EndpointService, string>>;

/** The standard port layout of a region (docs/architecture.md §8): each service's port is the S3 port plus this. */
export const STANDARD_PORT_OFFSETS: Readonly<Record<EndpointService, number>> = { access: 0, metadata: 100, sync: 300, scheduler: 500, monitoring: 600 };
/** The S3 port of region one under `npm start`; a second region on the same machine adds 1000. */
export const DEFAULT_S3_PORT = 9000;
export const DEFAULT_ENDPOINT = `http://127.0.0.1:${DEFAULT_S3_PORT}`;
/** The region S3 signatures are scoped to when nothing says otherwise (the gateway's CAIRN_S3_REGION default). */
export const DEFAULT_S3_SIGNING_REGION = 'us-east-1';

/** Environment variables that name one service's URL; they win over everything else for that service. */
export const SERVICE_URL_ENV: Readonly<Record<EndpointService, string>> = {
  access: 'CAIRN_S3_URL',
  metadata: 'CAIRN_METADATA_URL',
  scheduler: 'CAIRN_SCHEDULER_URL',
  monitoring: 'CAIRN_MONITORING_URL',
  sync: 'CAIRN_SYNC_URL',
};

/** One region as a profile describes it (the shape `npm start` writes to .cairn/profile.json). */
export interface RegionProfile {
  readonly region?: string;
  readonly endpoints?: Readonly<Partial<Record<string, string>>>;
  readonly operatorToken?: string;
  readonly caFile?: string;
  readonly s3?: { readonly endpoint?: string; readonly accessKeyId?: string; readonly secretAccessKey?: string; readonly region?: string };
}

/** A profile file: one region at the top level, and optionally more under `regions` (picked with --endpoint <name>). */
export interface ProfileFile extends RegionProfile {
  readonly regions?: Readonly<Record<string, RegionProfile>>;
}

export interface S3Keys {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** The region S3 signatures are scoped to. */
  readonly signingRegion: string;
}

/** Everything a command needs to reach a region and prove who it is. */
export interface CliSettings {
  /** The region's name when the profile names it. */
  readonly region: string | null;
  readonly endpoints: Endpoints;
  readonly operatorToken: string | null;
  readonly s3Keys: S3Keys | null;
  readonly caFile: string | null;
  /** Where the settings came from, for `whoami` and error messages. */
  readonly source: string;
}

export interface SettingsInput {
  /** --endpoint, or CAIRN_ENDPOINT when the flag is absent. */
  readonly endpoint?: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly profile: ProfileFile | null;
  readonly profilePath: string | null;
}

/**
 * A region's endpoints from one base: a URL or host[:port] of its S3 endpoint (port 9000 when
 * none is given), the admin APIs at the standard offsets from it, with the same scheme and host.
 */
export function endpointsFromBase(base: string): Endpoints {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(base) ? base : `http://${base}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw usageError(`--endpoint ${base} is neither a URL, a host[:port] nor a region of the profile`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw usageError(`--endpoint ${base}: only http and https are spoken`);
  if (url.pathname !== '/' || url.search) throw usageError(`--endpoint ${base}: give the region's S3 endpoint without a path`);
  const s3Port = url.port ? Number(url.port) : DEFAULT_S3_PORT;
  const at = (offset: number) => `${url.protocol}//${url.hostname.includes(':') ? `[${url.hostname}]` : url.hostname}:${s3Port + offset}`;
  return {
    access: at(STANDARD_PORT_OFFSETS.access),
    metadata: at(STANDARD_PORT_OFFSETS.metadata),
    scheduler: at(STANDARD_PORT_OFFSETS.scheduler),
    monitoring: at(STANDARD_PORT_OFFSETS.monitoring),
    sync: at(STANDARD_PORT_OFFSETS.sync),
  };
}

function looksLikeAddress(endpoint: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(endpoint) || /[.:]/.test(endpoint) || endpoint === 'localhost';
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

/** A region profile's endpoints, filling what it leaves out from its S3 endpoint's standard layout. */
function endpointsOfProfile(profile: RegionProfile): Endpoints {
  const listed = profile.endpoints ?? {};
  const s3 = listed['access'] ?? profile.s3?.endpoint;
  const derived = endpointsFromBase(s3 ?? DEFAULT_ENDPOINT);
  return {
    access: trimSlash(s3 ?? derived.access),
    metadata: trimSlash(listed['metadata'] ?? derived.metadata),
    scheduler: trimSlash(listed['scheduler'] ?? derived.scheduler),
    monitoring: trimSlash(listed['monitoring'] ?? derived.monitoring),
    sync: trimSlash(listed['sync'] ?? derived.sync),
  };
}

/**
 * Resolves where to connect and with what credential. Endpoints: `--endpoint` (or CAIRN_ENDPOINT)
 * names a region of the profile or gives a base address; without it the profile's region; without
 * a profile the local `npm start` region. CAIRN_<SERVICE>_URL then overrides single services.
 * Credentials: CAIRN_OPERATOR_TOKEN, else the profile's token; S3 keys from
 * CAIRN_ACCESS_KEY_ID/CAIRN_SECRET_ACCESS_KEY, else the profile's s3 section.
 */
export function resolveSettings(input: SettingsInput): CliSettings {
  const { env, profile } = input;
  const endpoint = input.endpoint?.trim() || undefined;
  let region: RegionProfile = profile ?? {};
  let endpoints: Endpoints;
  let source = input.profilePath ?? 'defaults';
  if (endpoint && profile?.regions?.[endpoint]) {
    // A named region inherits the top level's credentials unless it has its own.
    const named = profile.regions[endpoint];
    region = { ...profile, ...named, region: named.region ?? endpoint, s3: { ...profile.s3, ...named.s3 }, endpoints: named.endpoints ?? {} };
    if (!named.endpoints && !named.s3?.endpoint) throw usageError(`region ${endpoint} of ${input.profilePath} lists no endpoints`);
    endpoints = endpointsOfProfile(region);
  } else if (endpoint && profile?.region === endpoint) {
    endpoints = endpointsOfProfile(profile);
  } else if (endpoint) {
    if (!looksLikeAddress(endpoint)) {
      const known = [profile?.region, ...Object.keys(profile?.regions ?? {})].filter(Boolean);
      throw usageError(`--endpoint ${endpoint} is neither a URL, a host[:port] nor a region of the profile${known.length ? ` (regions: ${known.join(', ')})` : ''}`);
    }
    endpoints = endpointsFromBase(endpoint);
    region = { ...region, region: undefined };
    source = `--endpoint ${endpoint}`;
  } else if (profile && (profile.endpoints || profile.s3?.endpoint)) {
    endpoints = endpointsOfProfile(profile);
  } else {
    endpoints = endpointsFromBase(DEFAULT_ENDPOINT);
  }
  const overridden = Object.fromEntries(
    Object.entries(endpoints).map(([service, url]) => [service, trimSlash(env[SERVICE_URL_ENV[service as EndpointService]] || url)]),
  ) as unknown as Endpoints;
  const accessKeyId = env['CAIRN_ACCESS_KEY_ID'] || region.s3?.accessKeyId;
  const secretAccessKey = env['CAIRN_SECRET_ACCESS_KEY'] || region.s3?.secretAccessKey;
  return {
    region: region.region ?? null,
    endpoints: overridden,
    operatorToken: env['CAIRN_OPERATOR_TOKEN'] || region.operatorToken || null,
    s3Keys: accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey, signingRegion: env['CAIRN_S3_REGION'] || region.s3?.region || DEFAULT_S3_SIGNING_REGION } : null,
    caFile: env['CAIRN_CA_FILE'] || region.caFile || null,
    source,
  };
}
