/**
 * Prints docker/nats/nats-server.conf (one NATS user per service, least-privilege subjects) from
 * the permissions in libs/messaging. With an argument, for that namespace (CAIRN_NS) instead.
 *
 *   node -r @swc-node/register docker/nats/generate-config.ts > docker/nats/nats-server.conf
 */
import { natsServerConfigFile } from '../../libs/messaging/src/lib/nats-auth-permissions';

process.stdout.write(natsServerConfigFile(process.argv[2] ?? ''));
