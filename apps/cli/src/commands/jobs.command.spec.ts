import { PassThrough } from 'node:stream';
import type { JobView } from '../domain/jobs';
import { CommandContext, type CliIo } from './context';
import { sinkFor } from './jobs.command';

const MiB = 1024 * 1024;

function job(doneMiB: number, finished = false): JobView {
  return {
    id: '3',
    kind: 'sweep',
    state: finished ? 'done' : 'working',
    detail: `rebalance ${doneMiB}/10 (ring epoch 5)`,
    doneBytes: doneMiB * MiB,
    totalBytes: 10 * MiB,
    doneItems: doneMiB,
    totalItems: 10,
    fractionDone: doneMiB / 10,
    ratePerSecond: 1 * MiB,
    rateUnit: 'bytes',
    etaSeconds: 10 - doneMiB,
    finished,
    failed: false,
  };
}

function context(tty: boolean, json = false): { ctx: CommandContext; output: () => string } {
  const stdout = Object.assign(new PassThrough(), { isTTY: tty, columns: 160 });
  let text = '';
  stdout.on('data', (d: Buffer) => (text += String(d)));
  const io: CliIo = { env: {}, stdout, stderr: new PassThrough() };
  const ctx = new CommandContext(io, { json }, { region: null, endpoints: { access: '', metadata: '', scheduler: '', monitoring: '', sync: '' }, operatorToken: null, s3Keys: null, caFile: null, source: '' }, '/p', null);
  return { ctx, output: () => text };
}

describe('jobs watch output', () => {
  it('draws a progress bar with percentage, amount, rate and ETA on a terminal', () => {
    const { ctx, output } = context(true);
    const sink = sinkFor(ctx);
    sink.update(job(4));
    sink.update(job(10, true));
    sink.stop();
    const text = output();
    expect(text).toContain('40.0% | 4.0 MiB / 10.0 MiB | 1.0 MiB/s | ETA 6s | working rebalance 4/10');
    expect(text).toContain('100.0% | 10.0 MiB / 10.0 MiB | 1.0 MiB/s | ETA 0s | done');
    expect(text).toMatch(/█{30}/);
  });

  it('prints a line per change where there is no terminal, and JSON lines with --json', () => {
    const plain = context(false);
    const sink = sinkFor(plain.ctx);
    sink.waiting('job 3 has not started yet');
    sink.update(job(4));
    sink.update(job(4));
    sink.update(job(10, true));
    expect(plain.output().trim().split('\n')).toEqual([
      'waiting: job 3 has not started yet',
      'sweep 3 working 40.0%  4.0 MiB / 10.0 MiB  rate 1.0 MiB/s  ETA 6s  rebalance 4/10 (ring epoch 5)',
      'sweep 3 done 100.0%  10.0 MiB / 10.0 MiB  rate 1.0 MiB/s  ETA 0s  rebalance 10/10 (ring epoch 5)',
    ]);
    const json = context(false, true);
    sinkFor(json.ctx).update(job(4));
    expect(JSON.parse(json.output())).toMatchObject({ id: '3', fractionDone: 0.4, etaSeconds: 6 });
  });
});
