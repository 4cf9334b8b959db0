import type { Command } from 'commander';
import { CliError, ExitCodes, usageError } from '../domain/exit-codes';
import { formatBytes, formatRate, renderTable } from '../domain/format';
import { action, integerArg, type CliIo, type CommandContext, type GlobalOptions } from './context';
import type { LinkStatus } from '@cairn/fault-proxy';

/**
 * `cairn links`: the links between regions that `npm run start:regions` runs through its fault
 * proxy (docs/regions.md) — list them, cut one (a partition), heal it, delay it, throttle it.
 * Talks to the proxy's control API, which has no credentials and listens on loopback only.
 */
export const FAULT_PROXY_URL_ENV = 'CAIRN_FAULT_PROXY_URL';
export const DEFAULT_FAULT_PROXY_URL = 'http://127.0.0.1:9990';
const CONTROL_TIMEOUT_MS = 5_000;
const MAX_LATENCY_MS = 60_000;
const MAX_BYTES_PER_SECOND = 10_000_000_000;

/** A link as the proxy's control API describes it. */
export type LinkWire = LinkStatus;

/** --proxy, else CAIRN_FAULT_PROXY_URL, else the profile's faultProxy (start:regions writes it), else the default. */
export function faultProxyUrl(ctx: CommandContext): string {
  const explicit = (ctx.options as GlobalOptions & { proxy?: string }).proxy;
  const fromProfile = (ctx.profile as { faultProxy?: unknown } | null)?.faultProxy;
  const url = explicit ?? (ctx.io.env[FAULT_PROXY_URL_ENV] || undefined) ?? (typeof fromProfile === 'string' ? fromProfile : undefined) ?? DEFAULT_FAULT_PROXY_URL;
  if (!/^https?:\/\/[^\s/]+\/?$/.test(url)) throw usageError(`the fault proxy's address must be http://host:port, not "${url}"`);
  return url.replace(/\/$/, '');
}

/** One call to the fault proxy's control API, its errors as CLI errors. */
export async function faultProxyCall<T>(ctx: CommandContext, method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const base = faultProxyUrl(ctx);
  let res: Response;
  try {
    res = await fetch(`${base}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(CONTROL_TIMEOUT_MS),
    });
  } catch (error) {
    throw new CliError(ExitCodes.unreachable, `the fault proxy at ${base} does not answer (${error instanceof Error ? error.message : String(error)}); is npm run start:regions running?`);
  }
  const value = (await res.json().catch(() => ({}))) as T & { code?: string; message?: string };
  if (!res.ok) throw new CliError(ExitCodes.failed, `fault proxy: ${value.message ?? `HTTP ${res.status}`}`, value.code, res.status);
  return value;
}

function linksTable(links: readonly LinkWire[]): string {
  return renderTable(
    ['LINK', 'STATE', 'LATENCY', 'THROTTLE', 'OPEN', 'RESETS', 'TO TARGET', 'FROM TARGET', 'PROXY -> TARGET'],
    links.map((l) => [
      l.name,
      l.cut ? 'CUT' : 'ok',
      l.latencyMs ? `${l.latencyMs} ms` : '-',
      l.bytesPerSecond ? formatRate(l.bytesPerSecond, 'bytes') : '-',
      l.openConnections,
      l.resetConnections,
      formatBytes(l.bytesToTarget),
      formatBytes(l.bytesFromTarget),
      `${l.listen.host}:${l.listen.port} -> ${l.target.host}:${l.target.port}`,
    ]),
    '(the proxy has no links)',
  );
}

function describe(l: LinkWire): string {
  const faults = [l.cut ? 'cut' : 'connected', l.latencyMs ? `+${l.latencyMs} ms` : '', l.bytesPerSecond ? `throttled to ${formatRate(l.bytesPerSecond, 'bytes')}` : ''].filter(Boolean);
  return `link ${l.name}: ${faults.join(', ')} (${l.openConnections} open connection(s))`;
}

export function registerLinks(program: Command, io: CliIo): void {
  const links = program
    .command('links')
    .description('the links between regions through the fault proxy of `npm run start:regions`: list, cut, heal, latency, throttle, reset')
    .option('--proxy <url>', `the fault proxy's control API (default: ${FAULT_PROXY_URL_ENV}, the profile's faultProxy, ${DEFAULT_FAULT_PROXY_URL})`);

  links
    .command('list', { isDefault: true })
    .description('every link with its faults, open connections and bytes carried')
    .action(
      action(io, async (ctx) => {
        const reply = await faultProxyCall<{ links: LinkWire[] }>(ctx, 'GET', '/links');
        ctx.print(() => linksTable(reply.links), reply.links);
      }),
    );

  const change = (verb: string, description: string, body?: (args: string[]) => unknown) => {
    const args = verb === 'latency' ? ' <ms>' : verb === 'throttle' ? ' <bytesPerSecond>' : '';
    links
      .command(`${verb} <link>${args}`)
      .description(description)
      .action(
        action(io, async (ctx, name: string, ...rest: unknown[]) => {
          const link = await faultProxyCall<LinkWire>(ctx, 'POST', `/links/${encodeURIComponent(name)}/${verb}`, body?.(rest.filter((a): a is string => typeof a === 'string')));
          ctx.print(() => describe(link), link);
        }),
      );
  };
  change('cut', 'partition: reset the open connections of the link and refuse new ones until healed');
  change('heal', 'accept connections on the link again (they reconnect by themselves)');
  change('latency', 'delay everything on the link by this many milliseconds, each way (0: none)', ([ms]) => ({ ms: integerArg('<ms>', ms, 0, MAX_LATENCY_MS) }));
  change('throttle', 'pace each direction of each connection to this many bytes a second (0: no limit)', ([rate]) => ({
    bytesPerSecond: integerArg('<bytesPerSecond>', rate, 0, MAX_BYTES_PER_SECOND),
  }));

  links
    .command('reset [link]')
    .description('remove every fault from the link, or from all links')
    .action(
      action(io, async (ctx, name: string | undefined) => {
        if (name) {
          const link = await faultProxyCall<LinkWire>(ctx, 'POST', `/links/${encodeURIComponent(name)}/reset`);
          ctx.print(() => describe(link), link);
        } else {
          const reply = await faultProxyCall<{ links: LinkWire[] }>(ctx, 'POST', '/reset');
          ctx.print(() => linksTable(reply.links), reply.links);
        }
      }),
    );
}
