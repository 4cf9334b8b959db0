import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { eventually, testOperatorToken } from '@cairn/testing';
import { CliTestRegion, runCairn } from './testing/cli-region.e2e-helper';

const MiB = 1024 * 1024;
const OBJECTS = 24;
/** Slow enough that a rebalance of a few MiB takes seconds, so `jobs watch` has progress to show. */
const THROTTLE_BYTES_PER_SECOND = 1 * MiB;
/** Four nodes for three copies, so that a weight change moves something. */
const NODES = ['storage-1', 'storage-2', 'storage-3', 'storage-4'];

interface StatusJson {
  region: string;
  regions: string[];
  nodes: { nodeId: string; state: string; weight: number }[];
  services: { service: string; up: number }[];
  alerts: unknown[] | null;
  alertsAvailable: boolean;
  lag: { projections: { stream: string; lag: number }[] };
  jobs: { id: string; kind: string }[];
  problems: string[];
}

interface JobJson {
  id: string;
  kind: string;
  state: string;
  trigger?: string;
  detail: string;
  finished: boolean;
  fractionDone: number;
}

/**
 * The `cairn` CLI against a whole region of real processes: each command run as a child process
 * with --json parsed, tables for people, and exit codes that mean something (2 usage, 3 refused
 * credential, 4 unreachable endpoint, 1 refused operation).
 */
describe('cairn CLI against a running region', () => {
  const region = new CliTestRegion({
    CAIRN_SWEEP_INTERVAL_MS: String(86_400_000),
    CAIRN_REPAIR_BYTES_PER_SECOND: String(THROTTLE_BYTES_PER_SECOND),
    CAIRN_GC_GRACE_MS: String(3_600_000),
  });
  const adminToken = testOperatorToken('admin');
  let profile = '';
  const cairn = (...args: string[]) => runCairn(args, { CAIRN_PROFILE: profile });

  beforeAll(async () => {
    await region.start(NODES.length);
    profile = await region.writeProfile('profile.json', region.profile(adminToken));
    await region.s3.send(new CreateBucketCommand({ Bucket: 'cli-photos' }));
    for (let i = 0; i < OBJECTS; i++) await region.s3.send(new PutObjectCommand({ Bucket: 'cli-photos', Key: `o/${i}`, Body: randomBytes(MiB) }));
  }, 150_000);

  afterAll(() => region.stop(), 60_000);

  it('status: every node up by the failure detector, projection lag, alerts or why there are none, as JSON and as a table', async () => {
    const status = await eventually(async () => {
      const run = await cairn('status', '--json');
      if (run.code !== 0) return undefined;
      const s = run.json<StatusJson>();
      return NODES.every((n) => s.nodes.find((x) => x.nodeId === n)?.state === 'up') ? s : undefined;
    }, 30_000, 500);
    expect(status.region).toBe('region-1');
    expect(status.regions).toEqual(['region-1']);
    expect(status.problems).toEqual([]);
    expect(status.services.find((s) => s.service === 'storage')?.up).toBe(NODES.length);
    expect(status.lag.projections.map((p) => p.stream).length).toBeGreaterThan(0);
    expect(status.alertsAvailable ? Array.isArray(status.alerts) : status.alerts === null).toBe(true);

    const table = await cairn('status');
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^Region region-1/);
    expect(table.stdout).toMatch(/Storage nodes \(ring epoch \d+\)\nNODE +ZONE +STATE/);
    expect(table.stdout).toMatch(/storage-1 +zone-1 +up/);
    // Alerts: a note when none is firing or pending, else a table (a scrub-coverage alert may be pending on a new node).
    expect(table.stdout).toMatch(/Alerts\n( {2}(none firing or pending|unknown \(this monitoring serves no alerts API\))|ALERT +SEVERITY +STATE)/);
    expect(table.stdout).toContain('Lag\nPROJECTION');
  }, 60_000);

  it('nodes list, buckets list and the what-if planner', async () => {
    const nodes = (await cairn('nodes', 'list', '--json')).json<{ epoch: number; nodes: { nodeId: string; state: string; zone: string }[] }>();
    expect(nodes.nodes.map((n) => [n.nodeId, n.zone, n.state])).toEqual(NODES.map((n) => [n, 'zone-1', 'up']));
    const table = await cairn('nodes', 'list');
    expect(table.stdout.split('\n')[1]).toMatch(/^NODE +ZONE +HOST +STATE +WEIGHT +DRAINING +CHUNKS +BYTES +REMOVABLE +ADDRESS$/);

    const buckets = (await cairn('buckets', 'list', '--json')).json<{ buckets: { name: string; owner: string }[] }>();
    expect(buckets.buckets).toContainEqual(expect.objectContaining({ name: 'cli-photos', owner: 'root' }));
    expect((await cairn('buckets', 'list', '--owner', 'nobody', '--json')).json<{ buckets: unknown[] }>().buckets).toEqual([]);

    const plan = await cairn('plan', 'rebalance', 'add', 'storage-9', '--zone', 'zone-1', '--weight', '1', '--json');
    expect(plan.code).toBe(0);
    const body = plan.json<{ chunksExamined: number; chunksMoving: number; bytesToCopy: number; nodes: { nodeId: string; receiveBytes: number }[] }>();
    expect(body.chunksExamined).toBe(OBJECTS);
    expect(body.chunksMoving).toBeGreaterThan(0);
    expect(body.nodes.find((n) => n.nodeId === 'storage-9')?.receiveBytes).toBe(body.bytesToCopy);
    expect((await cairn('plan', 'rebalance', 'add', 'storage-9', '--zone', 'zone-1', '--weight', '1')).stdout).toMatch(/What if: add storage-9 .*nothing has moved/);
  }, 60_000);

  it('bucket replication sets and prints a mode; bucket conflicts lists the (empty) conflict log', async () => {
    await region.s3.send(new CreateBucketCommand({ Bucket: 'cli-replicated' }));
    const set = await cairn('bucket', 'replication', 'cli-replicated', '--mode', 'active-passive', '--home', 'region-2');
    expect([set.code, set.stdout.trim()]).toEqual([0, 'bucket cli-replicated: active-passive (home region-2)']);
    const local = await cairn('buckets', 'replication', 'cli-replicated', '--mode', 'local', '--json');
    expect(local.json()).toMatchObject({ name: 'cli-replicated', replication: { mode: 'local' } });
    expect((await cairn('bucket', 'replication', 'cli-replicated', '--mode', 'active-passive')).code).toBe(2);
    expect((await cairn('bucket', 'conflicts', 'cli-replicated', '--since', '2026-01-01', '--json')).json()).toEqual({ conflicts: [], nextAfter: null });
    expect((await cairn('bucket', 'conflicts', 'cli-replicated')).stdout.trim()).toBe('(no conflicts)');
  }, 60_000);

  it('access keys: create shows the secret once, list shows no secret, revoke marks it revoked', async () => {
    const created = await cairn('keys', 'create', 'alice', '--json');
    expect(created.code).toBe(0);
    const key = created.json<{ accessKeyId: string; secretAccessKey: string; owner: string }>();
    expect(key).toMatchObject({ owner: 'alice', accessKeyId: expect.any(String), secretAccessKey: expect.any(String) });
    const listed = (await cairn('keys', 'list', '--owner', 'alice', '--json')).json<{ accessKeys: Record<string, unknown>[] }>();
    expect(listed.accessKeys).toEqual([expect.objectContaining({ accessKeyId: key.accessKeyId, revokedAt: null })]);
    expect(listed.accessKeys[0]).not.toHaveProperty('secretAccessKey');
    expect((await cairn('keys', 'revoke', key.accessKeyId, '--json')).json()).toMatchObject({ accessKeyId: key.accessKeyId, revoked: true });
    await eventually(async () => {
      const after = (await cairn('keys', 'list', '--owner', 'alice', '--json')).json<{ accessKeys: { revokedAt: string | null }[] }>();
      return after.accessKeys[0]?.revokedAt !== null;
    }, 10_000, 200);
  }, 60_000);

  it('tokens: token create, whoami with it, a read-only token refused a change (3), a bad token (3), no credential at all (3)', async () => {
    const issued = (await cairn('token', 'create', '--role', 'read-only', '--label', 'ci', '--ttl', '1h', '--json')).json<{ token: string; role: string; expiresAt: string }>();
    expect(issued.role).toBe('read-only');
    expect(Date.parse(issued.expiresAt) - Date.now()).toBeGreaterThan(55 * 60_000);
    const who = await runCairn(['whoami', '--json'], { CAIRN_PROFILE: profile, CAIRN_OPERATOR_TOKEN: issued.token });
    expect(who.json()).toMatchObject({ caller: { kind: 'operator', role: 'read-only', label: 'ci' }, credential: 'CAIRN_OPERATOR_TOKEN', token: { role: 'read-only', label: 'ci' } });

    const readOnly = await runCairn(['keys', 'create', 'mallory'], { CAIRN_PROFILE: profile, CAIRN_OPERATOR_TOKEN: issued.token });
    expect(readOnly.code).toBe(3);
    expect(readOnly.stderr.trim().split('\n')).toHaveLength(1);
    expect(readOnly.stderr).toMatch(/^cairn: FORBIDDEN: a read-only operator token cannot POST here/);

    const bad = await runCairn(['whoami'], { CAIRN_PROFILE: profile, CAIRN_OPERATOR_TOKEN: `${adminToken.slice(0, -4)}AAAA` });
    expect(bad.code).toBe(3);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stdout).toBe('');

    const bare = await region.writeProfile('bare.json', { endpoints: region.profile(undefined)['endpoints'] });
    const none = await runCairn(['status'], { CAIRN_PROFILE: bare });
    expect(none.code).toBe(3);
    expect(none.stderr).toMatch(/^cairn: no operator token/);
  }, 60_000);

  it('login trades the root S3 keys for a token and saves it; with only S3 keys the CLI trades them by itself', async () => {
    const keysOnly = await region.writeProfile('keys-only.json', region.profile(undefined));
    const who = await runCairn(['whoami', '--json'], { CAIRN_PROFILE: keysOnly });
    expect(who.code).toBe(0);
    expect(who.json()).toMatchObject({ caller: { role: 'admin', label: 'cairn cli' }, credential: 'S3 keys traded for a token' });

    const login = await runCairn(['login', '--role', 'read-only', '--ttl', '2h', '--label', 'e2e login', '--json'], { CAIRN_PROFILE: keysOnly });
    expect(login.code).toBe(0);
    expect(login.json()).toMatchObject({ role: 'read-only', label: 'e2e login', savedTo: keysOnly });
    const after = await runCairn(['whoami', '--json'], { CAIRN_PROFILE: keysOnly });
    expect(after.json()).toMatchObject({ caller: { role: 'read-only', label: 'e2e login' }, credential: `profile ${keysOnly}` });

    const wrong = await runCairn(['login', '--access-key', 'CAIRNCLIROOTACCESSKY', '--secret-key', 'not-the-secret', '--no-save'], { CAIRN_PROFILE: keysOnly });
    expect(wrong.code).toBe(3);
    expect(wrong.stderr).toMatch(/^cairn: SignatureDoesNotMatch: /);
  }, 60_000);

  it('usage errors exit 2 and an unreachable endpoint exits 4, each in one line', async () => {
    const usage = [['nodes', 'frobnicate'], ['nodes', 'weight', 'storage-1', 'heavy'], ['jobs', 'watch'], ['token', 'create', '--role', 'root'], ['status', '--endpoint', 'region-9'], ['--no-such-flag']];
    const [away, awayJson, ...runs] = await Promise.all([cairn('status', '--endpoint', '127.0.0.1:1'), cairn('nodes', 'list', '--json', '--endpoint', 'http://127.0.0.1:1'), ...usage.map((args) => cairn(...args))]);
    usage.forEach((args, i) => {
      const run = runs[i]!;
      expect([args, run.code]).toEqual([args, 2]);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
      expect(run.stderr).toMatch(/^cairn: /);
    });
    expect(away.code).toBe(4);
    expect(away.stderr.trim()).toMatch(/^cairn: cannot reach http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED$/);
    expect(awayJson.code).toBe(4);
  }, 60_000);

  it('scrub now, scrub status, repair status and repair now', async () => {
    const scrub = (await cairn('scrub', 'now', 'storage-1', '--json')).json<{ started: string[]; jobIds: string[] }>();
    expect(scrub).toEqual({ started: ['storage-1'], jobIds: ['scrub:storage-1'] });
    const scrubStatus = (await cairn('scrub', 'status', '--json')).json<{ nodes: { nodeId: string; urgent: boolean }[] }>();
    expect(scrubStatus.nodes.find((n) => n.nodeId === 'storage-1')?.urgent).toBeDefined();
    const repair = (await cairn('repair', 'status', '--json')).json<{ queue: Record<string, number> }>();
    expect(repair.queue).toEqual(expect.objectContaining({ waiting: expect.any(Number), failed: expect.any(Number) }));
    expect((await cairn('repair', 'status')).stdout).toMatch(/^repair queue: /);
    const now = (await cairn('repair', 'now', '--json')).json<{ jobId: string }>();
    expect(now.jobId).toEqual(expect.any(String));
    const watched = await cairn('jobs', 'watch', now.jobId, '--interval', '250ms', '--timeout', '60s');
    expect(watched.code).toBe(0);
    expect(watched.stdout).toContain(`job ${now.jobId} done`);
  }, 90_000);

  it('a refused operation exits 1; a weight change starts a throttled rebalance that jobs watch follows with progress, rate and ETA until done', async () => {
    const refused = await cairn('nodes', 'remove', 'storage-1');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^cairn: NODE_NOT_DRAINED: drain node storage-1 first/);

    const weight = await cairn('nodes', 'weight', 'storage-1', '3', '--json');
    expect(weight.code).toBe(0);
    const epoch = weight.json<{ epoch: number }>().epoch;
    // The ring change queues a sweep of its own; find it.
    const job = await eventually(async () => {
      const jobs = (await cairn('jobs', 'list', '--json')).json<{ jobs: JobJson[] }>().jobs;
      return jobs.find((j) => j.kind === 'sweep' && j.detail.includes(`ring epoch ${epoch}`));
    }, 30_000, 300);
    const watched = await cairn('jobs', 'watch', job.id, '--interval', '300ms', '--timeout', '60s');
    expect([watched.code, watched.stderr]).toEqual([0, '']);
    const lines = watched.stdout.trim().split('\n');
    const progress = lines.filter((l) => l.startsWith(`sweep ${job.id} `));
    expect(progress.length).toBeGreaterThan(0);
    expect(lines.at(-1)).toMatch(new RegExp(`^job ${job.id} done`));
    expect(progress.at(-1)).toMatch(/ done 100\.0% .* rate .* ETA 0s .*rebalance (\d+)\/\1/);
    // While it moved: a rate in bytes and an ETA were shown (unless it was already done when the watch began).
    if (progress.length > 1) expect(progress.some((l) => /working .* rate \d+(\.\d)? (B|KiB|MiB)\/s {2}ETA \d/.test(l))).toBe(true);

    const json = await cairn('jobs', 'watch', job.id, '--json');
    const last = JSON.parse(json.stdout.trim().split('\n').at(-1)!) as JobJson;
    expect(last).toMatchObject({ id: job.id, state: 'done', finished: true, fractionDone: 1 });
  }, 90_000);

  it('nodes add, weight, drain and remove a node', async () => {
    const add = await cairn('nodes', 'add', 'ghost-1', '--address', 'http://127.0.0.1:1', '--zone', 'zone-2', '--weight', '1', '--json');
    expect([add.code, add.stderr]).toEqual([0, '']);
    const listed = (await cairn('nodes', 'list', '--json')).json<{ nodes: { nodeId: string; state: string; zone: string }[] }>();
    expect(listed.nodes.find((n) => n.nodeId === 'ghost-1')).toMatchObject({ zone: 'zone-2', state: 'unknown' });
    expect((await cairn('nodes', 'weight', 'ghost-1', '2', '--json')).json()).toMatchObject({ nodeId: 'ghost-1', weight: 2 });
    expect((await cairn('nodes', 'drain', 'ghost-1', '--json')).code).toBe(0);
    const notEmpty = await cairn('nodes', 'remove', 'ghost-1');
    expect(notEmpty.code).toBe(1);
    expect(notEmpty.stderr).toMatch(/^cairn: NODE_NOT_EMPTY: /);
    const removed = await cairn('nodes', 'remove', 'ghost-1', '--force', '--json');
    expect([removed.code, removed.stderr]).toEqual([0, '']);
    expect((await cairn('nodes', 'list', '--json')).json<{ nodes: { nodeId: string }[] }>().nodes.map((n) => n.nodeId)).toEqual(NODES);
  }, 60_000);
});
