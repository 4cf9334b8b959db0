import type { BucketRoute, RouteRegionView } from '@cairn/protocol';

export interface RouteInput {
  readonly bucket: string;
  /** The region answering: reads and writes of a local bucket stay here. */
  readonly self: string;
  readonly mode: BucketRoute['mode'];
  /** The home for active-passive (the control group's, else the configured one). */
  readonly home: string | null;
  readonly epoch: number | null;
  readonly regions: readonly Omit<RouteRegionView, 'holdsBucket'>[];
}

/**
 * Where a client should go for a bucket. Reads: the nearest region (by the answering region's
 * measured round trips) that is up and holds a copy, ties to more free storage then name. Writes:
 * the home of an active-passive bucket (whether up or not: no other region may take them), the
 * read choice for active-active, this region for a local bucket.
 */
export function routeBucket(input: RouteInput): BucketRoute {
  const regions: RouteRegionView[] = input.regions.map((r) => ({ ...r, holdsBucket: input.mode !== 'local' || r.region === input.self }));
  const endpointOf = (region: string) => regions.find((r) => r.region === region)?.s3Endpoint ?? null;
  const candidates = regions
    .filter((r) => r.up && r.holdsBucket)
    .sort((a, b) => (a.rttMs ?? Number.POSITIVE_INFINITY) - (b.rttMs ?? Number.POSITIVE_INFINITY) || (b.freeBytes ?? -1) - (a.freeBytes ?? -1) || a.region.localeCompare(b.region));
  const nearest = candidates[0] ? { region: candidates[0].region, s3Endpoint: candidates[0].s3Endpoint } : null;
  let write: BucketRoute['write'];
  if (input.mode === 'active-passive' && input.home) write = { region: input.home, s3Endpoint: endpointOf(input.home) };
  else if (input.mode === 'active-active') write = nearest;
  else write = { region: input.self, s3Endpoint: endpointOf(input.self) };
  return { bucket: input.bucket, mode: input.mode, home: input.mode === 'active-passive' ? input.home : null, epoch: input.mode === 'active-passive' ? input.epoch : null, write, read: nearest, regions };
}
