import { PhiAccrualDetector, statusForPhi } from './phi-accrual.detector';

function regular(detector: PhiAccrualDetector, count: number, everyMs: number, startMs = 0): number {
  let t = startMs;
  for (let i = 0; i < count; i++) {
    detector.heartbeat(t);
    t += everyMs;
  }
  return t - everyMs;
}

describe('PhiAccrualDetector', () => {
  it('stays calm while heartbeats arrive on time and grows without bound as one is missed', () => {
    const d = new PhiAccrualDetector();
    const last = regular(d, 30, 1_000);
    expect(d.phi(last + 1_000)).toBeLessThan(1);
    const later = [2_000, 3_000, 5_000, 10_000].map((gap) => d.phi(last + gap));
    for (let i = 1; i < later.length; i++) expect(later[i]).toBeGreaterThan(later[i - 1]);
    expect(statusForPhi(d.phi(last + 1_200))).toBe('up');
    expect(statusForPhi(d.phi(last + 10_000))).toBe('down');
  });

  it('is more patient with a sender whose heartbeats were irregular', () => {
    const steady = new PhiAccrualDetector();
    const steadyLast = regular(steady, 30, 1_000);
    const jittery = new PhiAccrualDetector();
    let t = 0;
    let jitteryLast = 0;
    for (let i = 0; i < 30; i++) {
      jittery.heartbeat(t);
      jitteryLast = t;
      t += i % 2 === 0 ? 400 : 1_600;
    }
    expect(jittery.phi(jitteryLast + 3_500)).toBeLessThan(steady.phi(steadyLast + 3_500));
  });

  it('says nothing before the first heartbeat, judges one lone heartbeat by the usual period, and refuses time going backwards', () => {
    const d = new PhiAccrualDetector();
    expect(d.phi(50_000)).toBe(0);
    d.heartbeat(1_000);
    expect(statusForPhi(d.phi(1_900))).toBe('up');
    expect(statusForPhi(d.phi(30_000))).toBe('down');
    expect(() => d.heartbeat(999)).toThrow(/before/);
  });
});
