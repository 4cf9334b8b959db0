import { announcementFor, DEFAULT_FAILURE_THRESHOLDS, failureVerdict } from './failure-verdict';
import { PhiAccrualDetector } from './phi-accrual.detector';

const T = DEFAULT_FAILURE_THRESHOLDS;

/** When a detector fed `beats` heartbeats every `everyMs` first gives `status`, in ms after the last one (10 ms steps). */
function firstAt(everyMs: number[], status: 'suspected' | 'down', thresholds = T): number {
  const d = new PhiAccrualDetector();
  let t = 0;
  for (const gap of everyMs) d.heartbeat((t += gap));
  for (let silence = 0; silence <= 60_000; silence += 10) if (failureVerdict(d.phi(t + silence), silence, thresholds) === status) return silence;
  return Infinity;
}

describe('failure verdict', () => {
  it('with the 1 s heartbeat: down after about three missed beats, never later than the down silence, never before the suspect silence', () => {
    const regular = Array.from({ length: 30 }, () => 1_000);
    const downMs = firstAt(regular, 'down');
    expect(downMs).toBeGreaterThanOrEqual(T.suspectAfterMs);
    expect(downMs).toBeLessThanOrEqual(T.downAfterMs);
    expect(firstAt(regular, 'suspected')).toBe(T.suspectAfterMs);
    // A sender phi has learnt to be patient with is still down once the silence bound passes.
    const jittery = Array.from({ length: 30 }, (_, i) => (i % 2 === 0 ? 200 : 1_800));
    expect(firstAt(jittery, 'down')).toBe(T.downAfterMs);
  });

  it('follows the configured silences', () => {
    const regular = Array.from({ length: 30 }, () => 1_000);
    const lenient = { ...T, suspectAfterMs: 5_000, downAfterMs: 10_000 };
    expect(firstAt(regular, 'down', lenient)).toBe(5_000);
    const strict = { ...T, downPhi: 1_000, suspectAfterMs: 1_500, downAfterMs: 1_800 };
    expect(firstAt(regular, 'down', strict)).toBe(1_800);
  });

  it('announces only changes: a suspicion after a down verdict is no news; the first sight of an instance is none', () => {
    expect(announcementFor(undefined, 'up')).toBeNull();
    expect(announcementFor(undefined, 'suspected')).toBe('NodeSuspected');
    expect(announcementFor('up', 'down')).toBe('NodeDown');
    expect(announcementFor('suspected', 'down')).toBe('NodeDown');
    expect(announcementFor('down', 'down')).toBeNull();
    expect(announcementFor('down', 'suspected')).toBeNull();
    expect(announcementFor('down', 'up')).toBe('NodeRecovered');
    expect(announcementFor('suspected', 'up')).toBe('NodeRecovered');
    expect(announcementFor('up', 'up')).toBeNull();
  });
});
