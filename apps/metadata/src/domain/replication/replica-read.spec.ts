import { replicaReadDecision, type ReplicaReadFacts } from './replica-read';

describe('replicaReadDecision: a replica region reads locally only when its copy is current enough', () => {
  it.each<[string, ReplicaReadFacts, boolean, string]>([
    ['no own write, no bound (the default for a client that wrote nothing here)', { ownWrite: null, bound: null }, true, ''],
    ['own write applied', { ownWrite: { sequence: 40, appliedThrough: 40 }, bound: null }, true, ''],
    ['own write applied and more since', { ownWrite: { sequence: 40, appliedThrough: 57 }, bound: null }, true, ''],
    ['own write not applied yet', { ownWrite: { sequence: 40, appliedThrough: 39 }, bound: null }, false, "your last write (the home's change 40) is not applied here yet (applied through 39)"],
    ['own write, position unknown', { ownWrite: { sequence: 40, appliedThrough: null }, bound: null }, false, 'cannot tell whether it has applied your last write'],
    ['within the bound', { ownWrite: null, bound: { seconds: 5, stalenessMs: 1_200 } }, true, ''],
    ['exactly at the bound', { ownWrite: null, bound: { seconds: 5, stalenessMs: 5_000 } }, true, ''],
    ['past the bound', { ownWrite: null, bound: { seconds: 5, stalenessMs: 7_500 } }, false, 'may be 7.5 s behind the home; the bucket allows 5 s'],
    ['a bound, staleness unknown', { ownWrite: null, bound: { seconds: 5, stalenessMs: null } }, false, 'cannot tell how far behind'],
    ['within the bound, own write not applied', { ownWrite: { sequence: 9, appliedThrough: 8 }, bound: { seconds: 60, stalenessMs: 100 } }, false, 'your last write'],
    ['own write applied, past the bound', { ownWrite: { sequence: 9, appliedThrough: 9 }, bound: { seconds: 1, stalenessMs: 2_000 } }, false, 'the bucket allows 1 s'],
  ])('%s', (_name, facts, local, reason) => {
    const decision = replicaReadDecision(facts);
    expect(decision.local).toBe(local);
    if (!decision.local) expect(decision.reason).toContain(reason);
  });
});
