import type { Heartbeat } from '@cairn/protocol';

/** Who a heartbeat's subject says sent it: `hb.<region>.<service>.<instance>`. */
export interface HeartbeatOrigin {
  readonly region: string;
  readonly service: string;
  readonly instance: string;
}

/** Why a heartbeat is not taken as its instance's; counted per reason. */
export type HeartbeatRejection = 'unsigned' | 'bad-signature' | 'wrong-sender' | 'unreadable';

/** The origin a heartbeat subject names, given the subject prefix before `<region>.`; null if it names none. */
export function originOfSubject(subject: string, prefix: string): HeartbeatOrigin | null {
  if (!subject.startsWith(prefix)) return null;
  const tokens = subject.slice(prefix.length).split('.');
  if (tokens.length < 3 || tokens.some((t) => t === '')) return null;
  const [region, service, ...rest] = tokens;
  return { region, service, instance: rest.join('.') };
}

/**
 * A heartbeat counts for an instance only if the instance signed it and says so itself: the
 * signer (`<service>/<instance>` in the signature) and the body must both name the subject's
 * instance, so one service's key material cannot keep another's heartbeat alive. Returns what
 * is wrong, or null.
 */
export function senderMismatch(origin: HeartbeatOrigin, signedBy: string, heartbeat: Heartbeat): string | null {
  const expected = `${origin.service}/${origin.instance}`;
  if (signedBy !== expected) return `signed by ${signedBy}, sent as ${expected}`;
  if (heartbeat.region !== origin.region || heartbeat.service !== origin.service || heartbeat.instance !== origin.instance) {
    return `body names ${heartbeat.region}/${heartbeat.service}/${heartbeat.instance}, subject ${origin.region}/${expected}`;
  }
  return null;
}
