import { startServiceProcess, type ServiceExit, type ServiceProcess } from './service-process';
import { OUTPUT_TAIL_MAX_LINES } from './output-tail';
import { eventually } from './namespaces';

const FIXTURE = 'libs/testing/src/lib/fixtures/crashing-service.fixture.ts';

describe('startServiceProcess (with a real child process)', () => {
  const started: ServiceProcess[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((s) => s.stop()));
  });

  async function startFixture(mode: string, lines: number): Promise<{ service: ServiceProcess; reported: Promise<ServiceExit>; reports: ServiceExit[] }> {
    const reports: ServiceExit[] = [];
    let report!: (exit: ServiceExit) => void;
    const reported = new Promise<ServiceExit>((resolve) => (report = resolve));
    const service = await startServiceProcess({
      app: 'crash-fixture',
      entry: FIXTURE,
      env: { CAIRN_INSTANCE: 'fixture-1', CRASH_FIXTURE_MODE: mode, CRASH_FIXTURE_LINES: String(lines) },
      onUnexpectedExit: (exit) => {
        reports.push(exit);
        report(exit);
      },
    });
    started.push(service);
    return { service, reported, reports };
  }

  const exitOf = (service: ServiceProcess) =>
    new Promise<void>((resolve) => (service.child.exitCode !== null || service.child.signalCode !== null ? resolve() : service.child.once('close', () => resolve())));

  it('reports a process that throws after listening, with its pid, exit code and the last lines it wrote', async () => {
    const { service, reported } = await startFixture('throw', 1_000);
    const exit = await reported;
    expect(exit).toMatchObject({ app: 'crash-fixture', instance: 'fixture-1', pid: service.child.pid, code: 1, signal: null });
    expect(exit.outputTail).toContain('fixture failure: out of patience');
    expect(exit.outputTail).toContain('line 1000\n');
    expect(exit.outputTail).not.toContain('line 1\n');
    expect(exit.outputTail.split('\n').length).toBeLessThanOrEqual(OUTPUT_TAIL_MAX_LINES + 1);
    expect(service.unexpectedExit()).toEqual(exit);
  });

  it('reports a process killed by a signal it was not sent from here', async () => {
    const { service, reported } = await startFixture('stay', 3);
    await eventually(() => service.output().includes('about to fail'), 10_000, 20);
    process.kill(service.child.pid!, 'SIGKILL');
    const exit = await reported;
    expect(exit).toMatchObject({ code: null, signal: 'SIGKILL' });
    expect(exit.outputTail).toContain('line 3\nabout to fail\n');
  });

  it('says nothing when the harness stops the process or a test kills it through child.kill', async () => {
    const stopped = await startFixture('stay', 3);
    const killed = await startFixture('stay', 3);
    killed.service.child.kill('SIGKILL');
    await Promise.all([stopped.service.stop(), exitOf(killed.service)]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect([...stopped.reports, ...killed.reports]).toEqual([]);
    expect(stopped.service.unexpectedExit()).toBeUndefined();
    expect(killed.service.unexpectedExit()).toBeUndefined();
  });

  it('still reports a crash after a pause and a resume sent from here', async () => {
    const { service, reported } = await startFixture('stay', 1);
    service.child.kill('SIGSTOP');
    service.child.kill('SIGCONT');
    process.kill(service.child.pid!, 'SIGTERM');
    expect((await reported).signal).toBe('SIGTERM');
  });
});
