/**
 * The fault proxy as a process (docs/regions.md):
 *
 *   node -r @swc-node/register libs/fault-proxy/src/main.ts --config links.json
 *   node -r @swc-node/register libs/fault-proxy/src/main.ts --control 127.0.0.1:9990 \
 *     --link region-2=127.0.0.1:6722:127.0.0.1:4722
 *
 * links.json: {"control": {"host": "127.0.0.1", "port": 9990}, "links": [{"name", "listenPort",
 * "targetHost", "targetPort", "listenHost"?}]}. --allow-non-loopback lets it listen on and forward
 * to other addresses (containers only); --exit-with-parent stops it when its stdin closes. Prints one JSON line once listening; stops on SIGINT/SIGTERM.
 */
import { readFileSync } from 'node:fs';
import { FaultProxy, type LinkSpec } from './lib/fault-proxy';
import { startControlServer } from './lib/control-api';

interface ProxyConfig {
  control: { host: string; port: number };
  links: LinkSpec[];
  allowNonLoopback: boolean;
  exitWithParent: boolean;
}

function hostPort(text: string): { host: string; port: number } {
  const at = text.lastIndexOf(':');
  return { host: text.slice(0, at), port: Number(text.slice(at + 1)) };
}

export function parseArgs(argv: readonly string[]): ProxyConfig {
  const config: ProxyConfig = { control: { host: '127.0.0.1', port: 9990 }, links: [], allowNonLoopback: false, exitWithParent: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--allow-non-loopback') config.allowNonLoopback = true;
    else if (arg === '--exit-with-parent') config.exitWithParent = true;
    else if (arg === '--control') config.control = hostPort(argv[++i]);
    else if (arg === '--config') {
      const file = JSON.parse(readFileSync(argv[++i], 'utf8')) as Partial<ProxyConfig>;
      if (file.control) config.control = file.control;
      config.links.push(...(file.links ?? []));
    } else if (arg === '--link') {
      // name=listenHost:listenPort:targetHost:targetPort
      const [name, rest] = argv[++i].split('=');
      const [listenHost, listenPort, targetHost, targetPort] = rest.split(':');
      config.links.push({ name, listenHost, listenPort: Number(listenPort), targetHost, targetPort: Number(targetPort) });
    } else throw new Error(`unknown argument ${arg} (see the comment at the top of libs/fault-proxy/src/main.ts)`);
  }
  return config;
}

async function main(): Promise<void> {
  const config = parseArgs(process.argv.slice(2));
  const proxy = new FaultProxy({ allowNonLoopback: config.allowNonLoopback });
  for (const link of config.links) await proxy.addLink(link);
  const control = await startControlServer(proxy, { ...config.control, allowNonLoopback: config.allowNonLoopback });
  process.stdout.write(`${JSON.stringify({ msg: 'fault proxy listening', control: control.url, links: proxy.list().map((l) => `${l.name} ${l.listen.host}:${l.listen.port} -> ${l.target.host}:${l.target.port}`) })}\n`);
  const stop = () => {
    void Promise.all([control.close(), proxy.close()]).then(() => process.exit(0));
    setTimeout(() => process.exit(0), 2_000).unref();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  // Started by a parent holding our stdin (start:regions, tests): gone with it, even after a crash.
  if (config.exitWithParent) process.stdin.on('close', stop).on('end', stop).resume();
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`fault proxy: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
