import { membershipSubject, subjectsFor } from '@cairn/protocol';

/**
 * The streams the metadata projection reads. Each has its own sequence space, so each has its own
 * checkpoint row: META (every `meta.>` event) and CLUSTER (only `cluster.membership`; the stream
 * also holds node health and jobs, which this projection does not read).
 */
export const PROJECTED_STREAMS = ['META', 'CLUSTER'] as const;
export type ProjectedStream = (typeof PROJECTED_STREAMS)[number];

export const CHECKPOINT_NAMES: Readonly<Record<ProjectedStream, string>> = {
  META: 'metadata',
  CLUSTER: 'metadata@CLUSTER',
};

/** The subject filter of each stream's projector, namespaced. */
export function projectedSubject(stream: ProjectedStream, namespace: string): string {
  return stream === 'META' ? subjectsFor(namespace).prefix('meta.>') : membershipSubject(namespace);
}

export const META_PROJECTOR_DURABLE = 'metadata-projector';
export const CLUSTER_PROJECTOR_DURABLE = 'metadata-membership-projector';
