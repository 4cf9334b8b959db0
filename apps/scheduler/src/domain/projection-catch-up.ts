/**
 * Waiting for metadata's projection to reach a sequence: a long replay (a region restore, a
 * backup cut just after a burst of writes) can keep it behind for many minutes, so a fixed
 * deadline fails jobs that are only slow. The wait gives up only when the projection stops
 * moving.
 */
export interface ProjectionSample {
  readonly checkpoint: number;
  readonly atMs: number;
}

export type ProjectionCatchUp =
  | { readonly kind: 'caught-up' }
  | { readonly kind: 'wait'; readonly lastMoved: ProjectionSample }
  | { readonly kind: 'stalled'; readonly sinceMs: number };

/**
 * `lastMoved` is the sample at which the checkpoint was last seen to advance (null on the first
 * look); `sample` the checkpoint now, or null when the status could not be read.
 */
export function projectionCatchUp(target: number, lastMoved: ProjectionSample | null, sample: ProjectionSample | null, nowMs: number, stallMs: number): ProjectionCatchUp {
  if (sample && sample.checkpoint >= target) return { kind: 'caught-up' };
  const moved = sample && (!lastMoved || sample.checkpoint > lastMoved.checkpoint) ? sample : lastMoved ?? { checkpoint: -1, atMs: nowMs };
  if (nowMs - moved.atMs >= stallMs) return { kind: 'stalled', sinceMs: moved.atMs };
  return { kind: 'wait', lastMoved: moved };
}
