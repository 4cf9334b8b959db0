import type { CommittedReport } from './control-state';
import { RegionContacts } from './region-contact';

const OPTIONS = { checkIntervalMs: 1_000, failedChecks: 3, leaseMs: 2_000 };
const THREE = ['r1', 'r2', 'r3'];
const FIVE = ['r1', 'r2', 'r3', 'r4', 'r5'];
const WALL = 1_700_000_000_000;
const GRANT = { granted: true, appliedIndex: 0 };

/** A region that has reported (nothing down) and whose report has applied: it may grant and hold a lease. */
function reported(self = 'r1', voters: readonly string[] = THREE, down: readonly string[] = []): { contacts: RegionContacts; committed: CommittedReport } {
  const contacts = new RegionContacts(self, voters, OPTIONS);
  const proposal = contacts.reportDue(down, undefined, WALL)!;
  return { contacts, committed: { down: proposal.down, seq: proposal.seq } };
}

describe('RegionContacts', () => {
  it('refuses a lease as long as the failover window or longer', () => {
    expect(() => new RegionContacts('r1', THREE, { ...OPTIONS, leaseMs: 3_000 })).toThrow(/must be shorter than the failover window/);
    expect(new RegionContacts('r1', THREE, { ...OPTIONS, leaseMs: 2_999 }).failureWindowMs).toBe(3_000);
  });

  it('knows its peers, not itself', () => {
    expect(new RegionContacts('r2', THREE, OPTIONS).peerNames()).toEqual(['r1', 'r3']);
  });

  describe('down detection: failedChecks failures AND the window without contact', () => {
    it.each<[string, (c: RegionContacts) => void, number, boolean]>([
      ['never heard of, before the window since start', () => undefined, 2_999, false],
      ['never heard of, failures but before the window since start', (c) => [1, 2, 3].forEach(() => c.failed('r2')), 2_999, false],
      ['never heard of, the window passed but too few failures', (c) => [1, 2].forEach(() => c.failed('r2')), 5_000, false],
      ['never heard of: 3 failures and the window since start', (c) => [1, 2, 3].forEach(() => c.failed('r2')), 3_000, true],
      ['3 failures but contact inside the window', (c) => (c.answered('r2', 900, 1_000, GRANT, 0), [1, 2, 3].forEach(() => c.failed('r2'))), 3_999, false],
      ['3 failures and the window since the last contact', (c) => (c.answered('r2', 900, 1_000, GRANT, 0), [1, 2, 3].forEach(() => c.failed('r2'))), 4_000, true],
      ['a reply resets the failures', (c) => ([1, 2, 3].forEach(() => c.failed('r2')), c.answered('r2', 100, 200, GRANT, 0)), 10_000, false],
      ['their probe resets the failures (a one-way loss of our probes)', (c) => ([1, 2, 3].forEach(() => c.failed('r2')), c.probedBy('r2', 500)), 10_000, false],
      ['their probe counts as contact', (c) => (c.probedBy('r2', 2_000), [1, 2, 3].forEach(() => c.failed('r2'))), 4_999, false],
    ])('%s', (_name, act, now, down) => {
      const c = new RegionContacts('r1', THREE, OPTIONS);
      act(c);
      expect(c.isDownHere('r2', now, 0)).toBe(down);
      expect(c.downHere(now, 0)).toEqual(down ? ['r2'] : []);
    });

    it('an old reply arriving late does not move the last contact back', () => {
      const c = new RegionContacts('r1', THREE, OPTIONS);
      c.answered('r2', 4_900, 5_000, GRANT, 0);
      c.answered('r2', 1_000, 1_100, GRANT, 0);
      [1, 2, 3].forEach(() => c.failed('r2'));
      expect(c.isDownHere('r2', 7_999, 0)).toBe(false);
      expect(c.isDownHere('r2', 8_000, 0)).toBe(true);
    });

    it('unknown regions are never down and never granted', () => {
      const { contacts, committed } = reported();
      expect(contacts.isDownHere('r9', 1e9, 0)).toBe(false);
      expect(contacts.grants('r9', committed, 0, 0)).toBe(false);
    });

    it('view: each peer with its failures, time since contact and round trip', () => {
      const c = new RegionContacts('r1', THREE, OPTIONS);
      c.answered('r2', 1_000, 1_040, GRANT, 0);
      [1, 2, 3].forEach(() => c.failed('r3'));
      expect(c.view(5_000, 0)).toEqual([
        { region: 'r2', up: true, failures: 0, sinceContactMs: 3_960, rttMs: 40 },
        { region: 'r3', up: false, failures: 3, sinceContactMs: null, rttMs: null },
      ]);
    });
  });

  describe('reports: a sequence number above every earlier one', () => {
    it('the first report is due even when nothing is down (the group may hold a previous run\'s)', () => {
      const c = new RegionContacts('r1', THREE, OPTIONS);
      expect(c.reportDue([], undefined, WALL)).toEqual({ down: [], seq: WALL });
      const previousRun = { down: [], seq: WALL - 60_000 };
      expect(new RegionContacts('r1', THREE, OPTIONS).reportDue([], previousRun, WALL)).toEqual({ down: [], seq: WALL });
    });

    it('a wall clock set back across a restart: the first report still goes above the one the group holds', () => {
      const c = new RegionContacts('r1', THREE, OPTIONS);
      const proposal = c.reportDue([], { down: ['r2'], seq: WALL + 60_000 }, WALL)!;
      expect(proposal.seq).toBe(WALL + 60_001);
      expect(c.grants('r2', { down: ['r2'], seq: WALL + 60_000 }, 0, 0)).toBe(false);
      expect(c.grants('r2', proposal, 0, 0)).toBe(true);
    });

    it('nothing is due while the group holds this run\'s latest report with the same view', () => {
      const { contacts, committed } = reported();
      expect(contacts.reportDue([], committed, WALL + 10)).toBeNull();
    });

    it('a changed view is due, with a larger number even if the wall clock stood still or went back', () => {
      const { contacts, committed } = reported();
      const next = contacts.reportDue(['r3', 'r2', 'r3'], committed, WALL - 5_000);
      expect(next).toEqual({ down: ['r2', 'r3'], seq: WALL + 1 });
      expect(contacts.reportDue(['r2'], committed, WALL + 500)).toEqual({ down: ['r2'], seq: WALL + 500 });
    });

    it('the latest report not applied yet (lost or on its way): a fresh one is due again', () => {
      const { contacts, committed } = reported();
      const down = contacts.reportDue(['r2'], committed, WALL + 100)!;
      // The view came back to what the group holds, but the "r2 down" report may still commit.
      expect(contacts.reportDue([], committed, WALL + 200)).toEqual({ down: [], seq: WALL + 200 });
      expect(contacts.reportDue([], { down: [], seq: WALL + 200 }, WALL + 300)).toBeNull();
      expect(down.seq).toBeLessThan(WALL + 200);
    });
  });

  describe('grants', () => {
    /** r1 has reported nothing down (WALL) and that report has applied, unless a case says otherwise. */
    type Case = [string, (c: RegionContacts, committed: CommittedReport) => CommittedReport | undefined, number, boolean];
    it.each<Case>([
      ['up here, our report applied and not calling it down', (_c, committed) => committed, 0, true],
      ['our report has not applied yet (nothing applied)', () => undefined, 0, false],
      ["the applied report is a previous run's (a restart: the applied state may be stale)", () => ({ down: [], seq: WALL - 1 }), 0, false],
      ['down here', (c, committed) => ([1, 2, 3].forEach(() => c.failed('r2')), committed), 3_000, false],
      ['our applied report calls it down, though it is up here again', (c, committed) => ({ down: ['r2'], seq: c.reportDue(['r2'], committed, WALL + 1)!.seq }), 0, false],
      ['we reported it down and that report has not applied: it may still commit', (c, committed) => (c.reportDue(['r2'], committed, WALL + 100), committed), 0, false],
      [
        'a later report without it has applied: the earlier "down" can never apply',
        (c, committed) => {
          c.reportDue(['r2'], committed, WALL + 100);
          return { down: [], seq: c.reportDue([], committed, WALL + 200)!.seq };
        },
        0,
        true,
      ],
      ['a pending "down" of another peer does not stop grants to this one', (c, committed) => (c.reportDue(['r3'], committed, WALL + 100), committed), 0, true],
    ])('%s', (_name, arrange, now, granted) => {
      const { contacts, committed } = reported();
      expect(contacts.grants('r2', arrange(contacts, committed), now, 0)).toBe(granted);
    });

    it('nothing before this run has made a report, whatever the group holds', () => {
      const c = new RegionContacts('r1', THREE, OPTIONS);
      expect(c.grants('r2', { down: [], seq: Number.MAX_SAFE_INTEGER }, 0, 0)).toBe(false);
    });
  });

  describe('the lease: grants from a majority (itself included), from no further ahead in the log', () => {
    it('three regions: one grant is enough, valid from the probe\'s send time for leaseMs', () => {
      const { contacts, committed } = reported();
      expect(contacts.leaseUntilMs(committed)).toBe(0);
      contacts.answered('r2', 1_000, 1_300, GRANT, 5);
      expect(contacts.leaseUntilMs(committed)).toBe(3_000);
      contacts.answered('r3', 1_500, 1_510, GRANT, 5);
      expect(contacts.leaseUntilMs(committed)).toBe(3_500);
    });

    it('five regions: the second-latest grant bounds the lease', () => {
      const { contacts, committed } = reported('r1', FIVE);
      contacts.answered('r2', 1_000, 1_010, GRANT, 0);
      expect(contacts.leaseUntilMs(committed)).toBe(0);
      contacts.answered('r3', 1_400, 1_410, GRANT, 0);
      contacts.answered('r4', 1_200, 1_210, GRANT, 0);
      expect(contacts.leaseUntilMs(committed)).toBe(3_200);
    });

    it.each<[string, { granted: boolean; appliedIndex: number }, number, number]>([
      ['a refusal gives nothing', { granted: false, appliedIndex: 0 }, 10, 0],
      ['a grant from a region ahead in the control log does not count (it may know this region is no longer home)', { granted: true, appliedIndex: 11 }, 10, 0],
      ['a grant from a region exactly as far counts', { granted: true, appliedIndex: 10 }, 10, 2_500],
      ['a grant from a region behind counts', { granted: true, appliedIndex: 3 }, 10, 2_500],
    ])('%s', (_name, reply, appliedHere, until) => {
      const { contacts, committed } = reported();
      contacts.answered('r2', 500, 600, reply, appliedHere);
      expect(contacts.leaseUntilMs(committed)).toBe(until);
    });

    it('a late reply to an older probe does not move the lease back', () => {
      const { contacts, committed } = reported();
      contacts.answered('r2', 2_000, 2_050, GRANT, 0);
      contacts.answered('r2', 1_000, 2_100, GRANT, 0);
      expect(contacts.leaseUntilMs(committed)).toBe(4_000);
    });

    it('no lease until this run\'s own first report has applied (after a restart the applied state may be stale)', () => {
      const c = new RegionContacts('r1', THREE, OPTIONS);
      c.answered('r2', 1_000, 1_010, GRANT, 0);
      expect(c.leaseUntilMs(undefined)).toBe(0);
      expect(c.leaseUntilMs({ down: [], seq: WALL })).toBe(0);
      const proposal = c.reportDue([], { down: [], seq: WALL - 10 }, WALL)!;
      expect(c.leaseUntilMs({ down: [], seq: WALL - 10 })).toBe(0);
      expect(c.leaseUntilMs(proposal)).toBe(3_000);
    });

    it('a region alone is its own majority: the lease never ends', () => {
      const c = new RegionContacts('r1', ['r1'], OPTIONS);
      expect(c.leaseUntilMs(undefined)).toBe(Number.POSITIVE_INFINITY);
    });
  });

  describe('the timing rule: a grant lapses before its grantor can report the prober down', () => {
    it.each([0, 1, 250, 999])('probe sent %i ms before the grantor heard it', (sendToReceiveMs) => {
      // r1 probes r2 at send; r2 grants on receipt (its last contact with r1) and answers.
      const send = 10_000;
      const receive = send + sendToReceiveMs;
      const prober = reported('r1');
      const grantor = reported('r2');
      grantor.contacts.probedBy('r1', receive);
      expect(grantor.contacts.grants('r1', grantor.committed, receive, 0)).toBe(true);
      prober.contacts.answered('r2', send, receive + 5, GRANT, 0);
      const leaseEnd = prober.contacts.leaseUntilMs(prober.committed);
      // Then silence: r2's probes fail every interval.
      [1, 2, 3].forEach(() => grantor.contacts.failed('r1'));
      const firstDown = receive + OPTIONS.checkIntervalMs * OPTIONS.failedChecks;
      expect(grantor.contacts.isDownHere('r1', firstDown - 1, 0)).toBe(false);
      expect(grantor.contacts.isDownHere('r1', firstDown, 0)).toBe(true);
      expect(leaseEnd).toBeLessThan(firstDown);
      // Clocks may run at different rates: with the lease at 2/3 of the window, up to ±20% apart
      // (the grantor's fast, the prober's slow) leaves it still short of the detection.
      expect((firstDown - receive) / 1.15).toBeGreaterThan((leaseEnd - send) / 0.85);
    });
  });
});
