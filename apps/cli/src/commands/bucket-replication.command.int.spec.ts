import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { keyIdOf } from '@cairn/hashing';
import { MetadataEventSchemaVersions, subjectsFor, type ConflictResolved, type EventEnvelope } from '@cairn/protocol';
import { dropNamespace, startServiceProcess, TEST_NATS_URL, testNamespace, testOperatorToken, type ServiceProcess } from '@cairn/testing';
import { connect, JSONCodec, type NatsConnection } from 'nats';
import { runCli } from '../cli';
import type { CliIo } from './context';

const BUCKET = 'cli-replicated';

/**
 * `cairn bucket replication` and `cairn bucket conflicts` against a real metadata service (its own
 * process, in a test namespace), with conflicts published to its META stream as a region's
 * metadata appends them; `cairn replication lag` where no sync answers.
 */
describe('cairn bucket replication / conflicts, cairn replication lag', () => {
  const ns = testNamespace();
  let metadata: ServiceProcess;
  let sync: ServiceProcess;
  let nc: NatsConnection;
  let incarnation = 0;
  const dir = mkdtempSync(path.join(tmpdir(), 'cairn-replication-'));
  const profile = path.join(dir, 'profile.json');

  async function cairn(argv: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    stdout.on('data', (d: Buffer) => (out += String(d)));
    stderr.on('data', (d: Buffer) => (err += String(d)));
    const io: CliIo = { env, stdout, stderr };
    const code = await runCli(['--profile', profile, ...argv], io).catch(() => -1);
    return { code, out, err };
  }

  async function publishConflict(conflictId: string, key: string, resolvedAt: string): Promise<void> {
    const keyId = keyIdOf(key);
    const data: ConflictResolved['data'] = {
      bucket: BUCKET,
      key,
      keyId,
      incarnation,
      conflictId,
      winner: { versionId: `w-${conflictId}`, region: 'region-2', hlc: '0000000002-0000-region-2', kind: 'version' },
      loser: { versionId: `l-${conflictId}`, region: 'region-1', hlc: '0000000001-0000-region-1', kind: 'version' },
      loserVersionId: `l-${conflictId}`,
      resolvedAt,
    };
    const envelope: EventEnvelope = {
      id: `${ns}-${conflictId}`,
      type: 'ConflictResolved',
      schemaVersion: MetadataEventSchemaVersions.ConflictResolved,
      aggregateId: `${BUCKET}/${keyId}`,
      region: 'region-1',
      hlc: '0000000003-0000-region-1',
      causationId: null,
      correlationId: null,
      occurredAt: resolvedAt,
      data,
    };
    await nc.jetstream().publish(subjectsFor(ns).object(BUCKET, keyId), JSONCodec().encode(envelope), { msgID: envelope.id });
  }

  beforeAll(async () => {
    [metadata, sync] = await Promise.all([
      startServiceProcess({ app: 'metadata', env: { CAIRN_NS: ns, CAIRN_INSTANCE: 'metadata-cli' } }),
      // A region federated with one peer that is not there: its link is listed, down.
      startServiceProcess({ app: 'sync', env: { CAIRN_NS: ns, CAIRN_INSTANCE: 'sync-cli', CAIRN_SYNC_PEERS: 'region-9', CAIRN_ANTI_ENTROPY_LEASE: 'none', CAIRN_ANTI_ENTROPY_INTERVAL_MS: '0' } }),
    ]);
    writeFileSync(profile, JSON.stringify({ region: 'region-1', endpoints: { metadata: metadata.url, sync: sync.url }, operatorToken: testOperatorToken('admin') }));
    const created = await fetch(`${metadata.url}/admin/buckets`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${testOperatorToken('admin')}` },
      body: JSON.stringify({ bucket: BUCKET, owner: 'alice', versioningEnabled: true }),
    });
    expect(created.status).toBe(201);
    incarnation = ((await created.json()) as { sequence: number }).sequence;
    nc = await connect({ servers: TEST_NATS_URL });
  }, 90_000);

  afterAll(async () => {
    await nc?.close();
    await Promise.all([metadata?.stop(), sync?.stop()]);
    await dropNamespace(ns);
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('sets the replication mode and prints the mode the bucket is left in', async () => {
    const passive = await cairn(['bucket', 'replication', BUCKET, '--mode', 'active-passive', '--home', 'region-2']);
    expect([passive.code, passive.out.trim(), passive.err]).toEqual([0, `bucket ${BUCKET}: active-passive (home region-2)`, '']);
    const active = await cairn(['--json', 'buckets', 'replication', BUCKET, '--mode', 'active-active']);
    expect(active.code).toBe(0);
    expect(JSON.parse(active.out)).toMatchObject({ name: BUCKET, owner: 'alice', replication: { mode: 'active-active' } });
    const listed = JSON.parse((await cairn(['--json', 'buckets', 'list'])).out) as { buckets: { name: string; replication: unknown }[] };
    expect(listed.buckets.find((b) => b.name === BUCKET)?.replication).toEqual({ mode: 'active-active' });
    const table = (await cairn(['buckets', 'list'])).out.split('\n');
    expect(table[0]).toMatch(/^BUCKET +OWNER +REGION +VERSIONING +REPLICATION +STORAGE CLASS +CREATED +DELETING$/);
    expect(table.find((l) => l.startsWith(BUCKET))).toMatch(/ Enabled +active-active +STANDARD /);
  });

  it('refuses a wrong command line with 2, a refused change with 1, a read-only token with 3', async () => {
    for (const argv of [
      ['bucket', 'replication', BUCKET, '--mode', 'active-passive'],
      ['bucket', 'replication', BUCKET, '--mode', 'local', '--home', 'region-2'],
      ['bucket', 'replication', BUCKET, '--mode', 'sometimes'],
      ['bucket', 'replication', BUCKET],
      ['bucket', 'conflicts', BUCKET, '--since', 'yesterday'],
      ['bucket', 'conflicts', BUCKET, '--limit', '0'],
    ]) {
      const run = await cairn(argv);
      expect({ argv, code: run.code, lines: run.err.trim().split('\n').length }).toEqual({ argv, code: 2, lines: 1 });
    }
    const unknown = await cairn(['bucket', 'replication', 'no-such-bucket', '--mode', 'local']);
    expect([unknown.code, unknown.err]).toEqual([1, expect.stringMatching(/^cairn: NoSuchBucket: .*\[metadata PUT \/admin\/buckets\/no-such-bucket\/replication → 404\]\n$/)]);
    const readOnly = await cairn(['bucket', 'replication', BUCKET, '--mode', 'local'], { CAIRN_OPERATOR_TOKEN: testOperatorToken('read-only') });
    expect(readOnly.code).toBe(3);
    // A read-only token may read the conflict log.
    expect((await cairn(['bucket', 'conflicts', BUCKET], { CAIRN_OPERATOR_TOKEN: testOperatorToken('read-only') })).code).toBe(0);
  });

  it('lists conflicts as a table or JSON, filtered by time and paged', async () => {
    const empty = await cairn(['bucket', 'conflicts', BUCKET]);
    expect([empty.code, empty.out.trim()]).toEqual([0, '(no conflicts)']);
    await publishConflict('k-2', 'b.txt', '2026-12-01T10:00:02.000Z');
    await publishConflict('k-1', 'a.txt', '2026-12-01T10:00:01.000Z');
    await publishConflict('k-3', 'c.txt', '2026-12-02T08:00:00.000Z');

    let table = { code: -1, out: '', err: '' };
    for (let attempt = 0; attempt < 50 && !table.out.includes('c.txt'); attempt++) {
      table = await cairn(['bucket', 'conflicts', BUCKET]);
      if (!table.out.includes('c.txt')) await new Promise((r) => setTimeout(r, 100));
    }
    expect(table.code).toBe(0);
    const lines = table.out.trim().split('\n');
    expect(lines[0]).toMatch(/^RESOLVED +KEY +WINNER +LOSER +LOSER KEPT AS +CONFLICT$/);
    expect(lines.slice(1).map((l) => l.split(/\s{2,}/))).toEqual([
      ['2026-12-01T10:00:01.000Z', 'a.txt', 'region-2 w-k-1', 'region-1 l-k-1', 'l-k-1', 'k-1'],
      ['2026-12-01T10:00:02.000Z', 'b.txt', 'region-2 w-k-2', 'region-1 l-k-2', 'l-k-2', 'k-2'],
      ['2026-12-02T08:00:00.000Z', 'c.txt', 'region-2 w-k-3', 'region-1 l-k-3', 'l-k-3', 'k-3'],
    ]);

    const firstPage = await cairn(['bucket', 'conflicts', BUCKET, '--limit', '2']);
    expect(firstPage.out.trim().split('\n').at(-1)).toBe(`more: cairn bucket conflicts ${BUCKET} --after k-2`);
    const secondPage = JSON.parse((await cairn(['--json', 'bucket', 'conflicts', BUCKET, '--limit', '2', '--after', 'k-2'])).out) as { conflicts: { key: string }[]; nextAfter: string | null };
    expect([secondPage.conflicts.map((c) => c.key), secondPage.nextAfter]).toEqual([['c.txt'], null]);

    const window = JSON.parse((await cairn(['--json', 'bucket', 'conflicts', BUCKET, '--since', '2026-12-01T10:00:02Z', '--until', '2026-12-02'])).out) as {
      conflicts: { conflictId: string; winner: { region: string } }[];
    };
    expect(window.conflicts).toEqual([expect.objectContaining({ conflictId: 'k-2', winner: expect.objectContaining({ region: 'region-2' }) })]);
    const unknown = await cairn(['bucket', 'conflicts', 'no-such-bucket']);
    expect([unknown.code, unknown.err]).toEqual([1, expect.stringContaining('NoSuchBucket')]);
  });

  it("replication lag: the sync service's links as a table and as JSON", async () => {
    const json = await cairn(['--json', 'replication', 'lag']);
    expect(json.code).toBe(0);
    const links = JSON.parse(json.out) as { source: string; target: string; connected: boolean }[];
    expect(links).toEqual([expect.objectContaining({ source: 'region-9', target: 'region-1', connected: false })]);
    const table = await cairn(['replication', 'lag']);
    expect(table.code).toBe(0);
    expect(table.out.split('\n')[0]).toMatch(/^SOURCE +TARGET +LINK +PENDING +LAG +APPLIED +LAST APPLIED$/);
    expect(table.out.split('\n')[1]).toMatch(/^region-9 +region-1 +DOWN +\d+ +\S+ +0 +never$/);
  });

  it('replication lag: exits 4 in one line when the sync service does not answer', async () => {
    const closed = net.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const run = await cairn(['replication', 'lag'], { CAIRN_SYNC_URL: `http://127.0.0.1:${port}` });
    expect(run.code).toBe(4);
    expect(run.err.trim().split('\n')).toHaveLength(1);
    expect(run.err).toContain(`127.0.0.1:${port}`);
  });
});
