import type { Logger } from '@nestjs/common';
import { describeError } from '@cairn/chunk-client';
import type { RpcClient } from '@cairn/messaging';
import { METADATA_SERVICE, MetadataRpc, type ProjectionStatusReply } from '@cairn/protocol';
import { METADATA_RPC_TIMEOUT_MS } from '../cluster/cluster-view';
import { projectionCatchUp, type ProjectionSample } from '../domain/projection-catch-up';

/** The META projection is given up on after this long without its checkpoint moving. */
export const PROJECTION_STALL_MS = 120_000;
const POLL_MS = 250;

/**
 * Resolves once metadata's META projection has committed `sequence` ('end': everything in the
 * stream when it is read); throws only when the projection has not moved for `stallMs`. `onWait`
 * hears each look that found it behind (a job's progress report).
 */
export async function waitForMetaProjection(
  rpc: RpcClient,
  sequence: number | 'end',
  signal: AbortSignal,
  logger: Logger,
  onWait: (checkpoint: number | null, target: number) => Promise<void> = async () => undefined,
  stallMs = PROJECTION_STALL_MS,
): Promise<void> {
  let lastMoved: ProjectionSample | null = null;
  for (;;) {
    signal.throwIfAborted();
    const status = await rpc.request<ProjectionStatusReply>(METADATA_SERVICE, MetadataRpc.projectionStatus, {}, { timeoutMs: METADATA_RPC_TIMEOUT_MS }).catch((error) => {
      logger.warn(`projection status: ${describeError(error)}`);
      return null;
    });
    const now = Date.now();
    const meta = status?.streams.find((s) => s.stream === 'META');
    const target = sequence === 'end' ? meta?.lastSequence ?? Number.MAX_SAFE_INTEGER : sequence;
    const decision = projectionCatchUp(target, lastMoved, meta ? { checkpoint: meta.checkpoint, atMs: now } : null, now, stallMs);
    if (decision.kind === 'caught-up') return;
    if (decision.kind === 'stalled') {
      throw new Error(`the META projection has not moved for ${Math.round((now - decision.sinceMs) / 1000)} s (at ${meta?.checkpoint ?? 'unknown'}, waiting for ${target})`);
    }
    lastMoved = decision.lastMoved;
    await onWait(meta?.checkpoint ?? null, target);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
