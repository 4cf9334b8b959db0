import { contentHashOf } from '../lib/content-hash';
import { HashRing } from '../lib/hash-ring';
import { planMigration } from '../lib/migration-plan';

/**
 * A digest of everything a ring decides for a fixed membership: its tokens, the replicas of a
 * thousand chunks and a migration plan. Run as a script it prints the digest, so a test can
 * compare what separate processes compute.
 */
export function ringFingerprint(): string {
  const members = ['b', 'a', 'd', 'c', 'e'].map((id, i) => ({ nodeId: `node-${id}`, zone: `z${i % 3}`, host: `h${i}`, weight: 1 + (i % 2) }));
  const ring = HashRing.build({ epoch: 7, members });
  const grown = HashRing.build({ epoch: 8, members: [...members, { nodeId: 'node-f', zone: 'z1', host: 'h9', weight: 1 }] });
  const lines: string[] = [contentHashOf(Buffer.from(ring.tokens.buffer))];
  for (let i = 0; i < 1000; i++) {
    lines.push(ring.replicasFor(contentHashOf(`chunk-${i}`), 3).map((m) => m.nodeId).join(','));
  }
  lines.push(JSON.stringify(planMigration(ring, grown, 3).moves.slice(0, 50)));
  return contentHashOf(lines.join('\n'));
}

if (require.main === module) console.log(ringFingerprint());
