import { advanceScrub, initialScrubState, passIsDue, scrubCoverage, scrubRateBytesPerSecond, SCRUB_CHECKPOINTS_MAX } from './scrub-coverage';

const DAY = 86_400_000;

describe('scrub passes and coverage', () => {
  it('walks a pass to its end, then starts the next with the finished one as previous', () => {
    let s = initialScrubState('n1', 0);
    s = advanceScrub(s, { verifiedCount: 2, verifiedBytes: 200, corruptCount: 0, nextAfter: '55' }, 1_000);
    expect(s.current).toMatchObject({ cursor: '55', verifiedBytes: 200, verifiedChunks: 2 });
    s = advanceScrub(s, { verifiedCount: 2, verifiedBytes: 200, corruptCount: 1, nextAfter: null }, 2_000);
    expect(s.previous).toMatchObject({ verifiedBytes: 400, verifiedChunks: 4, corruptFound: 1, finishedAtMs: 2_000 });
    expect(s.current).toMatchObject({ cursor: '', verifiedBytes: 0, startedAtMs: 2_000 });
  });

  it('counts what the current pass verified within the window, and the previous pass beyond the cursor', () => {
    let s = initialScrubState('n1', 0);
    s = advanceScrub(s, { verifiedCount: 1, verifiedBytes: 500, corruptCount: 0, nextAfter: '80' }, 1 * DAY);
    s = advanceScrub(s, { verifiedCount: 1, verifiedBytes: 500, corruptCount: 0, nextAfter: null }, 2 * DAY);
    // A new pass covers the first half again at day 20.
    s = advanceScrub(s, { verifiedCount: 1, verifiedBytes: 500, corruptCount: 0, nextAfter: '80' }, 20 * DAY);
    const now = 21 * DAY;
    // Window 14 days: the current half (day 20) counts; the previous pass beyond '80' was at day 2, too old.
    expect(scrubCoverage(s, 1_000, 14 * DAY, now)).toMatchObject({ coveredBytes: 500, coveredFraction: 0.5, oldestVerifiedAtMs: 1 * DAY });
    // Window 30 days: both halves count.
    expect(scrubCoverage(s, 1_000, 30 * DAY, now)).toMatchObject({ coveredBytes: 1_000, coveredFraction: 1 });
  });

  it('says nothing about the oldest verification before a first pass has finished', () => {
    const s = advanceScrub(initialScrubState('n1', 0), { verifiedCount: 1, verifiedBytes: 10, corruptCount: 0, nextAfter: '10' }, 100);
    expect(scrubCoverage(s, 100, DAY, 200)).toMatchObject({ coveredBytes: 10, coveredFraction: 0.1, oldestVerifiedAtMs: null });
  });

  it('keeps a bounded number of checkpoints, coverage exact to within their spacing', () => {
    let s = initialScrubState('n1', 0);
    for (let i = 1; i <= 1_000; i++) s = advanceScrub(s, { verifiedCount: 1, verifiedBytes: 1, corruptCount: 0, nextAfter: i.toString(16).padStart(4, '0') }, i);
    expect(s.current.checkpoints.length).toBeLessThanOrEqual(SCRUB_CHECKPOINTS_MAX);
    const covered = scrubCoverage(s, 1_000, 500, 1_000).coveredBytes;
    expect(Math.abs(covered - 500)).toBeLessThanOrEqual(1_000 / (SCRUB_CHECKPOINTS_MAX / 2));
  });

  it('paces to cover the node once per period, within floor and ceiling; urgent runs at the ceiling', () => {
    expect(scrubRateBytesPerSecond(14 * 86_400 * 10, 14 * DAY, 1, 1_000, false)).toBe(10);
    expect(scrubRateBytesPerSecond(0, 14 * DAY, 5, 1_000, false)).toBe(5);
    expect(scrubRateBytesPerSecond(1e15, 14 * DAY, 5, 1_000, false)).toBe(1_000);
    expect(scrubRateBytesPerSecond(0, 14 * DAY, 5, 1_000, true)).toBe(1_000);
  });
});

describe('passIsDue', () => {
  const period = 10 * DAY;
  it('starts the first pass at once, the next only a period after the previous began, and any pass at once when urgent', () => {
    let s = initialScrubState('n1', 0);
    expect(passIsDue(s, period, 0)).toBe(true);
    s = advanceScrub(s, { verifiedCount: 1, verifiedBytes: 1, corruptCount: 1, nextAfter: null }, 1_000);
    expect(passIsDue(s, period, 5 * DAY)).toBe(false);
    expect(passIsDue(s, period, 10 * DAY)).toBe(true);
    expect(passIsDue({ ...s, urgent: true }, period, 5 * DAY)).toBe(true);
    expect(s.corruptFoundTotal).toBe(1);
  });
});
