import {
  assessInboundLink,
  FIRST_REDIAL_DELAY_MS,
  initialInboundLink,
  MAX_REDIAL_DELAY_MS,
  SOURCE_SILENT_MS,
  type InboundLinkMemory,
  type InboundLinkObservation,
  type PeerAnswer,
} from './inbound-link-state';

const fed = (atMs: number, sourceSilentMs = 500): InboundLinkObservation => ({ kind: 'observed', atMs, sourceSilentMs, sourceError: null, peer: { kind: 'not-asked' } });
const silent = (atMs: number, peer: PeerAnswer, sourceSilentMs: number | null = null): InboundLinkObservation => ({ kind: 'observed', atMs, sourceSilentMs, sourceError: null, peer });
const answers: PeerAnswer = { kind: 'answers' };

/** Folds the observations in order; returns the last memory and the times a redial was asked for. */
function run(observations: readonly InboundLinkObservation[], from: InboundLinkMemory = initialInboundLink()): { memory: InboundLinkMemory; redialsAt: number[] } {
  let memory = from;
  const redialsAt: number[] = [];
  for (const o of observations) {
    const next = assessInboundLink(memory, o);
    memory = next.memory;
    if (next.redial) redialsAt.push(o.atMs);
  }
  return { memory, redialsAt };
}

const every2s = (fromMs: number, toMs: number, make: (atMs: number) => InboundLinkObservation) =>
  Array.from({ length: Math.floor((toMs - fromMs) / 2_000) + 1 }, (_, i) => make(fromMs + i * 2_000));

describe('an inbound link', () => {
  it('is connected while its source is heard from, and keeps the last error it met with its time', () => {
    const { memory, redialsAt } = run([silent(0, { kind: 'no-answer', detail: 'TIMEOUT' }), fed(2_000)]);
    expect(memory).toMatchObject({ state: 'connected', lastError: 'TIMEOUT', lastErrorAtMs: 0, lastConnectedAtMs: 2_000 });
    expect(redialsAt).toEqual([]);
  });

  it('counts a source silent for SOURCE_SILENT_MS as down', () => {
    expect(run([silent(0, answers, SOURCE_SILENT_MS)]).memory.state).toBe('connecting');
    expect(run([fed(0, SOURCE_SILENT_MS - 1)]).memory.state).toBe('connected');
  });

  it('says the peer is unreachable, or not started, and never redials toward a peer that does not answer', () => {
    const unreachable = run(every2s(0, 600_000, (t) => silent(t, { kind: 'no-answer', detail: 'no responders' })));
    expect(unreachable.memory).toMatchObject({ state: 'peer-unreachable', lastError: 'no responders' });
    expect(unreachable.redialsAt).toEqual([]);
    const notStarted = run(every2s(0, 600_000, (t) => silent(t, { kind: 'no-stream', detail: 'no META yet' })));
    expect(notStarted.memory).toMatchObject({ state: 'peer-not-ready', lastError: 'no META yet' });
    expect(notStarted.redialsAt).toEqual([]);
  });

  it('redials a source that stays silent while the peer answers, first after FIRST_REDIAL_DELAY_MS, then backing off up to MAX_REDIAL_DELAY_MS', () => {
    const { memory, redialsAt } = run(every2s(0, 1_000_000, (t) => silent(t, answers)));
    expect(memory.state).toBe('connecting');
    expect(memory.lastError).toContain('never fed');
    expect(redialsAt[0]).toBe(FIRST_REDIAL_DELAY_MS);
    const gaps = redialsAt.slice(1).map((t, i) => t - redialsAt[i]);
    for (const [i, gap] of gaps.entries()) expect(gap).toBe(Math.min(FIRST_REDIAL_DELAY_MS * 2 ** (i + 1), MAX_REDIAL_DELAY_MS));
    expect(gaps.at(-1)).toBe(MAX_REDIAL_DELAY_MS);
    expect(memory.redials).toBe(redialsAt.length);
  });

  it('waits the first delay again after the source came back and went silent once more', () => {
    const first = run(every2s(0, 200_000, (t) => silent(t, answers)));
    expect(first.memory.redialDelayMs).toBe(MAX_REDIAL_DELAY_MS);
    const again = run([fed(202_000), ...every2s(204_000, 204_000 + FIRST_REDIAL_DELAY_MS, (t) => silent(t, answers, 12_000))], first.memory);
    expect(again.redialsAt).toEqual([204_000 + FIRST_REDIAL_DELAY_MS]);
  });

  it('counts the silence from when the peer began to answer, not from when the link went down', () => {
    const { redialsAt } = run([...every2s(0, 100_000, (t) => silent(t, { kind: 'no-answer', detail: 'cut' })), ...every2s(102_000, 130_000, (t) => silent(t, answers))]);
    expect(redialsAt).toEqual([102_000 + FIRST_REDIAL_DELAY_MS]);
  });

  it("reports JetStream's own source error when there is one, and its own copy unreadable as local-unavailable", () => {
    const withError = assessInboundLink(initialInboundLink(), { kind: 'observed', atMs: 0, sourceSilentMs: null, sourceError: 'consumer create failed', peer: answers });
    expect(withError.memory.lastError).toBe('consumer create failed');
    const local = assessInboundLink(initialInboundLink(), { kind: 'local-unavailable', atMs: 5, detail: 'CONNECTION_CLOSED' });
    expect(local).toEqual({ memory: expect.objectContaining({ state: 'local-unavailable', lastError: 'CONNECTION_CLOSED', lastErrorAtMs: 5 }), redial: false });
  });

  it('refuses a silent source that was not checked against its peer', () => {
    expect(() => assessInboundLink(initialInboundLink(), silent(0, { kind: 'not-asked' }))).toThrow(/checked against its peer/);
  });
});
