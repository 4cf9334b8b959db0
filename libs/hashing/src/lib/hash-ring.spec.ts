import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import fc from 'fast-check';
import { contentHashOf } from './content-hash';
import { HashRing, RING_POSITION_SPACE, type RingMember } from './hash-ring';
import { moveAt, planMigration } from './migration-plan';
import { ringPositions } from '../test-support/fast-keys';
import { ringFingerprint } from '../test-support/ring-fingerprint';

const KEY_COUNT = 1_000_000;
const KEYS = ringPositions(KEY_COUNT, 0xc0ffee);
const PROPERTY_RUNS = 5;

const nodeIds = (n: number) => fc.uniqueArray(fc.string({ minLength: 1, maxLength: 12 }), { minLength: n, maxLength: n });
const equalMembers = (ids: readonly string[]): RingMember[] => ids.map((nodeId, i) => ({ nodeId, zone: `z${i % 3}`, host: `h${i}`, weight: 1 }));

function loads(ring: HashRing): Map<string, number> {
  const counts = new Map<string, number>(ring.members.map((m) => [m.nodeId, 0]));
  for (let i = 0; i < KEYS.length; i++) {
    const id = ring.ownerAtPosition(KEYS[i]).nodeId;
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

describe('HashRing', () => {
  it('with 8 equal nodes and 1,000,000 keys, the most loaded node holds at most 1.15x the mean', () => {
    fc.assert(
      fc.property(nodeIds(8), (ids) => {
        const ring = HashRing.build({ epoch: 1, members: equalMembers(ids) });
        const counts = [...loads(ring).values()];
        expect(counts.reduce((a, b) => a + b, 0)).toBe(KEY_COUNT);
        expect(Math.max(...counts)).toBeLessThanOrEqual(1.15 * (KEY_COUNT / 8));
      }),
      { numRuns: PROPERTY_RUNS },
    );
  });

  it('adding a 9th node moves at most 1.2x the ideal 1/9 of keys, all of them to the new node, as the plan says', () => {
    fc.assert(
      fc.property(nodeIds(9), (ids) => {
        const before = HashRing.build({ epoch: 1, members: equalMembers(ids.slice(0, 8)) });
        const after = HashRing.build({ epoch: 2, members: equalMembers(ids) });
        const newcomer = ids[8];
        const plan = planMigration(before, after, 1);
        let moved = 0;
        for (let i = 0; i < KEYS.length; i++) {
          const was = before.ownerAtPosition(KEYS[i]).nodeId;
          const now = after.ownerAtPosition(KEYS[i]).nodeId;
          const move = moveAt(plan, KEYS[i]);
          if (was !== now) {
            moved++;
            if (now !== newcomer) throw new Error(`key at ${KEYS[i]} moved from ${was} to ${now}, not to the new node`);
            if (!move || move.from[0] !== was || move.to[0] !== now) throw new Error(`the plan misses the move of key at ${KEYS[i]}`);
          } else if (move) {
            throw new Error(`the plan moves key at ${KEYS[i]} which stays on ${was}`);
          }
        }
        expect(moved).toBeLessThanOrEqual((1.2 * KEY_COUNT) / 9);
        expect(moved).toBeGreaterThan(0);
        expect(plan.moves.every((m) => m.to.length === 1 && m.to[0] === newcomer)).toBe(true);
        expect(Math.abs(plan.movedFraction - moved / KEY_COUNT)).toBeLessThan(0.01);
      }),
      { numRuns: PROPERTY_RUNS },
    );
  });

  it('gives each node a share of keys within 10% of its share of the weight', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 8 }).chain((n) => fc.tuple(nodeIds(n), fc.array(fc.integer({ min: 1, max: 4 }), { minLength: n, maxLength: n }))),
        ([ids, weights]) => {
          const members = ids.map((nodeId, i) => ({ nodeId, zone: 'z', host: `h${i}`, weight: weights[i] }));
          const ring = HashRing.build({ epoch: 3, members });
          const totalWeight = weights.reduce((a, b) => a + b, 0);
          const counts = loads(ring);
          members.forEach((m) => {
            const expected = (KEY_COUNT * m.weight) / totalWeight;
            expect(Math.abs((counts.get(m.nodeId) ?? 0) - expected) / expected).toBeLessThanOrEqual(0.1);
          });
        },
      ),
      { numRuns: PROPERTY_RUNS },
    );
  });

  it('never puts two replicas on one node, and spreads them over distinct zones, then hosts, when they exist', () => {
    const SAMPLE_KEYS = ringPositions(500, 42);
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10 }).chain((n) =>
          fc.record({
            ids: nodeIds(n),
            zones: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: n, maxLength: n }),
            hosts: fc.array(fc.integer({ min: 0, max: 4 }), { minLength: n, maxLength: n }),
            rf: fc.integer({ min: 1, max: n }),
          }),
        ),
        ({ ids, zones, hosts, rf }) => {
          const members = ids.map((nodeId, i) => ({ nodeId, zone: `z${zones[i]}`, host: `h${hosts[i]}`, weight: 1 }));
          const ring = HashRing.build({ epoch: 1, members });
          const zoneCount = new Set(members.map((m) => m.zone)).size;
          const hostCount = new Set(members.map((m) => `${m.zone}/${m.host}`)).size;
          for (const position of SAMPLE_KEYS) {
            const replicas = ring.replicasAtPosition(position, rf);
            const spread = {
              count: replicas.length,
              nodes: new Set(replicas.map((m) => m.nodeId)).size,
              zones: new Set(replicas.map((m) => m.zone)).size,
              hosts: new Set(replicas.map((m) => `${m.zone}/${m.host}`)).size,
              primaryIsOwner: replicas[0].nodeId === ring.ownerAtPosition(position).nodeId,
            };
            const wanted = { count: rf, nodes: rf, zones: Math.min(rf, zoneCount), hosts: Math.min(rf, hostCount), primaryIsOwner: true };
            if (JSON.stringify(spread) !== JSON.stringify(wanted)) expect({ position, spread }).toEqual({ position, spread: wanted });
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('is the same ring whatever order the members come in', () => {
    fc.assert(
      fc.property(nodeIds(5), fc.integer(), (ids, seed) => {
        const members = equalMembers(ids);
        const shuffled = [...members].sort((a, b) => ((contentHashOf(a.nodeId + seed) < contentHashOf(b.nodeId + seed)) ? -1 : 1));
        const a = HashRing.build({ epoch: 4, members });
        const b = HashRing.build({ epoch: 4, members: shuffled });
        expect(Buffer.from(a.tokens.buffer).equals(Buffer.from(b.tokens.buffer))).toBe(true);
        for (const p of ringPositions(200, seed)) expect(a.replicasAtPosition(p, 3)).toEqual(b.replicasAtPosition(p, 3));
      }),
      { numRuns: 20 },
    );
  });

  it('computes the same placement in separate processes', () => {
    const script = path.join(__dirname, '../test-support/ring-fingerprint.ts');
    const here = ringFingerprint();
    for (let run = 0; run < 2; run++) {
      const child = spawnSync(process.execPath, ['-r', '@swc-node/register', script], { encoding: 'utf8', cwd: path.join(__dirname, '../../../..') });
      expect(child.stderr).toBe('');
      expect(child.stdout.trim()).toBe(here);
    }
  });

  it('refuses what it cannot place', () => {
    const members = equalMembers(['a', 'b']);
    const ring = HashRing.build({ epoch: 1, members });
    expect(() => ring.replicasAtPosition(0, 3)).toThrow(RangeError);
    expect(() => HashRing.build({ epoch: 1, members: [...members, members[0]] })).toThrow(/twice/);
    expect(() => HashRing.build({ epoch: 1, members: [] })).toThrow(RangeError);
    expect(() => HashRing.build({ epoch: 1, members: [{ ...members[0], weight: 0 }] })).toThrow(/weight/);
  });

  it('covers the whole position space with ordered, disjoint moves', () => {
    const a = HashRing.build({ epoch: 1, members: equalMembers(['a', 'b', 'c', 'd']) });
    const b = HashRing.build({ epoch: 2, members: equalMembers(['a', 'b', 'c', 'e']) });
    const plan = planMigration(a, b, 2);
    for (let i = 1; i < plan.moves.length; i++) expect(plan.moves[i].startPosition).toBeGreaterThanOrEqual(plan.moves[i - 1].endPosition);
    expect(plan.moves[plan.moves.length - 1].endPosition).toBeLessThanOrEqual(RING_POSITION_SPACE);
    for (const m of plan.moves) {
      expect(m.from.every((n) => m.sources.includes(n))).toBe(true);
      expect(m.to.every((n) => !m.sources.includes(n))).toBe(true);
      expect(m.from).not.toContain('e');
    }
    for (const p of ringPositions(5_000, 9)) {
      if (a.replicasAtPosition(p, 2).some((m) => m.nodeId === 'd')) expect(moveAt(plan, p)?.from).toContain('d');
    }
  });
});
