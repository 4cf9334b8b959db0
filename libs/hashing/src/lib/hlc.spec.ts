import fc from 'fast-check';
import { HLC_MAX_LOGICAL, HlcDriftError, HybridLogicalClock, compareHlc, decodeHlc, encodeHlc, type HlcTimestamp } from './hlc';

const timestamp = fc.record({ wallMs: fc.integer({ min: 0, max: 2 ** 45 }), logical: fc.integer({ min: 0, max: HLC_MAX_LOGICAL }) });
const sign = (n: number) => (n < 0 ? -1 : n > 0 ? 1 : 0);

describe('hybrid logical clock', () => {
  it('encodes to strings whose order is the timestamps order, and decodes back', () => {
    fc.assert(
      fc.property(timestamp, timestamp, (a, b) => {
        expect(decodeHlc(encodeHlc(a))).toEqual(a);
        const byString = encodeHlc(a) < encodeHlc(b) ? -1 : encodeHlc(a) > encodeHlc(b) ? 1 : 0;
        expect(byString).toBe(compareHlc(a, b));
      }),
    );
  });

  it('issues strictly increasing timestamps whatever physical time does, never behind it', () => {
    const step = fc.oneof(
      fc.record({ kind: fc.constant('now' as const), physicalMs: fc.integer({ min: 0, max: 10_000 }) }),
      fc.record({ kind: fc.constant('receive' as const), physicalMs: fc.integer({ min: 0, max: 10_000 }), remote: fc.record({ wallMs: fc.integer({ min: 0, max: 10_000 }), logical: fc.integer({ min: 0, max: 1000 }) }) }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 200 }), (steps) => {
        const clock = new HybridLogicalClock();
        let last: HlcTimestamp = clock.current;
        for (const s of steps) {
          const t = s.kind === 'now' ? clock.now(s.physicalMs) : clock.receive(s.remote, s.physicalMs);
          expect(compareHlc(t, last)).toBe(1);
          expect(t.wallMs).toBeGreaterThanOrEqual(s.physicalMs);
          if (s.kind === 'receive') expect(compareHlc(t, s.remote)).toBe(1);
          last = t;
        }
      }),
    );
  });

  it('keeps the logical counter at zero while physical time advances', () => {
    const clock = new HybridLogicalClock();
    expect(clock.now(100)).toEqual({ wallMs: 100, logical: 0 });
    expect(clock.now(100)).toEqual({ wallMs: 100, logical: 1 });
    expect(clock.now(99)).toEqual({ wallMs: 100, logical: 2 });
    expect(clock.now(101)).toEqual({ wallMs: 101, logical: 0 });
    expect(clock.receive({ wallMs: 150, logical: 7 }, 120)).toEqual({ wallMs: 150, logical: 8 });
  });

  it('refuses a remote clock too far ahead', () => {
    const clock = new HybridLogicalClock(undefined, 1_000);
    expect(() => clock.receive({ wallMs: 5_000, logical: 0 }, 3_000)).toThrow(HlcDriftError);
    expect(clock.current).toEqual({ wallMs: 0, logical: 0 });
  });

  it('rejects malformed encodings', () => {
    for (const bad of ['', '0-0', '0000000000zz-00000000', '000000000001-0000000', '000000000001-000000000']) expect(() => decodeHlc(bad)).toThrow(RangeError);
    expect(() => encodeHlc({ wallMs: -1, logical: 0 })).toThrow(RangeError);
    expect(sign(compareHlc({ wallMs: 1, logical: 0 }, { wallMs: 0, logical: 5 }))).toBe(1);
  });
});
