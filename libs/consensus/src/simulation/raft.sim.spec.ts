import { REGRESSION_SEEDS } from './regression-seeds';
import { runSimulation, type SimulationReport } from './simulator';

/** Seeds per `npm test`; `SOAK_SEEDS=5000 npm run soak:raft` runs more. */
const DEFAULT_SEEDS = 300;
/** Soak runs start here so they explore seeds the default run does not. */
const FIRST_SEED = 1;

const seedCount = Number(process.env['SOAK_SEEDS'] ?? DEFAULT_SEEDS);
const firstSeed = Number(process.env['SIM_FIRST_SEED'] ?? FIRST_SEED);

describe('raft simulation', () => {
  it.each(REGRESSION_SEEDS.map((r) => [r.seed, r.caught] as const))('regression seed %i (%s)', (seed) => {
    runSimulation(seed);
  });

  it(`survives ${seedCount} seeds of faults, then converges`, () => {
    const reports: SimulationReport[] = [];
    const failures: string[] = [];
    for (let seed = firstSeed; seed < firstSeed + seedCount; seed++) {
      try {
        reports.push(runSimulation(seed));
      } catch (error) {
        failures.push(error instanceof Error ? error.message : String(error));
        if (failures.length >= 3) break;
      }
    }
    if (failures.length > 0) throw new Error(`${failures.length} seed(s) failed:\n${failures.join('\n\n')}`);
    // The runs must actually have exercised something, or the checks above prove nothing.
    const sum = (f: (r: SimulationReport) => number) => reports.reduce((a, r) => a + f(r), 0);
    expect(sum((r) => r.completedWrites)).toBeGreaterThan(seedCount * 10);
    expect(sum((r) => r.completedReads)).toBeGreaterThan(seedCount * 5);
    expect(sum((r) => r.crashes)).toBeGreaterThan(0);
    expect(sum((r) => r.snapshotsInstalled)).toBeGreaterThan(0);
    expect(Math.max(...reports.map((r) => r.elections))).toBeGreaterThan(3);
    process.stdout.write(
      `[raft sim] ${reports.length} seeds: ${sum((r) => r.events)} events, ${sum((r) => r.elections)} elections, ` +
        `${sum((r) => r.crashes)} crashes, ${sum((r) => r.snapshotsInstalled)} snapshots installed, ` +
        `${sum((r) => r.completedWrites)} writes and ${sum((r) => r.completedReads)} reads checked; ` +
        `slowest convergence ${Math.max(...reports.map((r) => r.convergedAfterMs))}ms\n`,
    );
  });
});
