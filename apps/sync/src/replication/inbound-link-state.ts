import type { ReplicationLinkState } from '@cairn/protocol';

/**
 * The state of one inbound link (a peer region's META sourced into this region) as sync tells it
 * from what it observes, and when to redial the source. Pure: observations and the time come in.
 *
 * Why sync redials at all: JetStream sets the source up on its own and retries a failed set-up,
 * but a source can be left silent while the peer answers (a consumer request lost while the link
 * or the peer's JetStream was coming up); only a new source set-up brings it back, and a region
 * that never starts replicating is worse than a redial too many (re-adding the source resumes
 * after the last message it has, so nothing is sourced twice).
 */

/** A source heard from within this long is connected (JetStream heartbeats a live source every few seconds). */
export const SOURCE_SILENT_MS = 10_000;
/** First pause before sync redials a silent source whose peer answers: JetStream's own retry gets its chance first. */
export const FIRST_REDIAL_DELAY_MS = 10_000;
/** The pause doubles after each redial that did not bring the source back, up to this. */
export const MAX_REDIAL_DELAY_MS = 120_000;

/** connected, connecting, peer-unreachable, peer-not-ready, local-unavailable: see ReplicationLinkState. */
export type InboundLinkState = ReplicationLinkState;

/** What the peer's JetStream said when asked about its META across the link. */
export type PeerAnswer =
  | { readonly kind: 'answers' }
  | { readonly kind: 'no-stream'; readonly detail: string }
  | { readonly kind: 'no-answer'; readonly detail: string }
  /** Not asked: the source was heard from, so the link is up. */
  | { readonly kind: 'not-asked' };

export type InboundLinkObservation =
  | {
      readonly kind: 'observed';
      readonly atMs: number;
      /** Since the source's last activity; null when it has had none. */
      readonly sourceSilentMs: number | null;
      /** JetStream's own error for the source, when it reports one. */
      readonly sourceError: string | null;
      readonly peer: PeerAnswer;
    }
  | { readonly kind: 'local-unavailable'; readonly atMs: number; readonly detail: string };

export interface InboundLinkMemory {
  readonly state: InboundLinkState;
  readonly lastError: string | null;
  readonly lastErrorAtMs: number | null;
  readonly lastConnectedAtMs: number | null;
  /** Since when the peer has answered while the source stayed silent; null otherwise. */
  readonly answeringSilentSinceMs: number | null;
  readonly lastRedialAtMs: number | null;
  readonly redialDelayMs: number;
  /** Redials since start. */
  readonly redials: number;
}

export function initialInboundLink(): InboundLinkMemory {
  return {
    state: 'local-unavailable',
    lastError: null,
    lastErrorAtMs: null,
    lastConnectedAtMs: null,
    answeringSilentSinceMs: null,
    lastRedialAtMs: null,
    redialDelayMs: FIRST_REDIAL_DELAY_MS,
    redials: 0,
  };
}

export function isSourceConnected(sourceSilentMs: number | null): boolean {
  return sourceSilentMs !== null && sourceSilentMs < SOURCE_SILENT_MS;
}

/** The link's new memory, and whether to redial the source now. */
export function assessInboundLink(memory: InboundLinkMemory, observation: InboundLinkObservation): { readonly memory: InboundLinkMemory; readonly redial: boolean } {
  const now = observation.atMs;
  const failing = (state: InboundLinkState, error: string): InboundLinkMemory => ({ ...memory, state, lastError: error, lastErrorAtMs: now, answeringSilentSinceMs: null });
  if (observation.kind === 'local-unavailable') return { memory: failing('local-unavailable', observation.detail), redial: false };
  if (isSourceConnected(observation.sourceSilentMs)) {
    return { memory: { ...memory, state: 'connected', lastConnectedAtMs: now, answeringSilentSinceMs: null, redialDelayMs: FIRST_REDIAL_DELAY_MS }, redial: false };
  }
  const peer = observation.peer;
  switch (peer.kind) {
    case 'no-answer':
      return { memory: failing('peer-unreachable', peer.detail), redial: false };
    case 'no-stream':
      return { memory: failing('peer-not-ready', peer.detail), redial: false };
    case 'not-asked':
      // Only a connected source goes unasked; anything else is a caller's mistake.
      throw new Error('a silent source must be checked against its peer');
    case 'answers':
      break;
    default: {
      const unknown: never = peer;
      throw new Error(`unknown peer answer ${JSON.stringify(unknown)}`);
    }
  }
  const since = memory.answeringSilentSinceMs ?? now;
  const silentFor = now - Math.max(since, memory.lastRedialAtMs ?? since);
  const silence = observation.sourceSilentMs === null ? 'never fed' : `silent for ${Math.round(observation.sourceSilentMs / 1000)} s`;
  const error = observation.sourceError ?? `the source is ${silence} though the peer's stream answers`;
  const next: InboundLinkMemory = { ...memory, state: 'connecting', answeringSilentSinceMs: since, lastError: error, lastErrorAtMs: now };
  if (silentFor < memory.redialDelayMs) return { memory: next, redial: false };
  return {
    memory: { ...next, lastRedialAtMs: now, redials: memory.redials + 1, redialDelayMs: Math.min(memory.redialDelayMs * 2, MAX_REDIAL_DELAY_MS) },
    redial: true,
  };
}
