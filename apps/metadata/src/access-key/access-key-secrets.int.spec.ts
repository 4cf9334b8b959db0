import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { NatsConnectionManager, RpcClient } from '@cairn/messaging';
import { canonicalIdOf, METADATA_SERVICE, MetadataRpc, subjectsFor, type AccessKeyView, type CreateAccessKeyReply, type EventEnvelope, type ResealAccessKeysReply } from '@cairn/protocol';
import { KeyService, openAccessKeySecret, PostgresConnection, type RunningService } from '@cairn/service-kit';
import { bootForTest, dropNamespace, eventually, rawStreamsText, testNamespace } from '@cairn/testing';
import { JSONCodec } from 'nats';
import type { MetadataConfig } from '../metadata.config';
import { ProjectionTracker } from '../projections/projection-tracker';
import { MetadataService } from '../service';
import { RPC_TIMEOUT_MS } from '../testing/rpc-test-helpers';

const ROOT_SECRET = 'sealed-root-secret-key-000000000000';
const LEGACY_KEY_ID = 'CKLEGACYPLAINTEXT0001';
const LEGACY_SECRET = 'legacy-plaintext-secret-from-version-2';

/**
 * Access-key secrets at rest against real JetStream and Postgres: a metadata service with the
 * region keyring seals every new secret (the root key's included) in events and in access_keys;
 * an event written before sealing (plaintext, schema version 2) still loads, its row is sealed as
 * it is projected, and a rebuild of the projection leaves only sealed rows. The secrets open again
 * with the keyring, as the gateway opens them.
 */
describe('access-key secrets sealed under the master key (real JetStream and Postgres)', () => {
  const ns = testNamespace();
  const subjects = subjectsFor(ns);
  const dir = mkdtempSync(path.join(tmpdir(), 'cairn-sealed-secrets-'));
  const keyring = path.join(dir, 'keyring.json');
  let service: RunningService<MetadataConfig>;
  let rpc: RpcClient;
  const call = <T>(pattern: string, payload: unknown) => rpc.request<T>(METADATA_SERVICE, pattern, payload, { timeoutMs: RPC_TIMEOUT_MS });

  beforeAll(async () => {
    service = await bootForTest(MetadataService, ns, {
      CAIRN_ROOT_ACCESS_KEY: 'CAIRNSEALEDROOTKEY01',
      CAIRN_ROOT_SECRET_KEY: ROOT_SECRET,
      CAIRN_MASTER_KEY_FILE: keyring,
      CAIRN_MASTER_KEY_CREATE: 'true',
    });
    await service.transport.started;
    rpc = service.app.get(RpcClient);
  }, 60_000);

  afterAll(async () => {
    await service?.close();
    await dropNamespace(ns);
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  /** Every message of the META and CLUSTER streams as raw bytes. */
  async function rawStreamText(): Promise<string> {
    const jsm = await service.app.get(NatsConnectionManager).jetstreamManager();
    return rawStreamsText(jsm, [subjects.streamName('META'), subjects.streamName('CLUSTER')]);
  }

  async function accessKeyRows(): Promise<Record<string, unknown>[]> {
    const ds = await service.app.get(PostgresConnection).ready();
    const schema = (ds.options as { schema: string }).schema;
    return ds.query(`SELECT * FROM "${schema}"."access_keys" ORDER BY access_key_id`);
  }

  it('stores new secrets only sealed; a plaintext secret of an older event is sealed by its projection and by a rebuild', async () => {
    const created = await call<CreateAccessKeyReply>(MetadataRpc.createAccessKey, { owner: 'sealed-user' });
    const envelope: EventEnvelope = {
      id: randomUUID(),
      type: 'AccessKeyCreated',
      schemaVersion: 2,
      aggregateId: LEGACY_KEY_ID,
      region: 'eu-one',
      hlc: '0000000001-0000-eu-one',
      causationId: null,
      correlationId: null,
      occurredAt: '2026-01-01T00:00:00.000Z',
      data: { accessKeyId: LEGACY_KEY_ID, secretAccessKey: LEGACY_SECRET, owner: 'old-timer', canonicalId: canonicalIdOf('old-timer'), createdAt: '2026-01-01T00:00:00.000Z' },
    };
    const js = await service.app.get(NatsConnectionManager).jetstream();
    const legacySequence = (await js.publish(subjects.accessKey(LEGACY_KEY_ID), JSONCodec().encode(envelope), { msgID: envelope.id })).seq;

    // The stream: the new key's and the root key's secrets appear nowhere (the legacy event is as it was stored).
    const raw = await rawStreamText();
    expect(raw).toContain(created.accessKeyId);
    expect(raw).not.toContain(created.secretAccessKey);
    expect(raw).not.toContain(ROOT_SECRET);
    expect(raw).toContain(LEGACY_SECRET);

    const keys = KeyService.open(keyring, { create: false });
    const expectSealedRows = async () => {
      const rows = await eventually(async () => {
        const all = await accessKeyRows();
        return all.length === 3 ? all : undefined;
      }, 20_000);
      expect(JSON.stringify(rows)).not.toContain(created.secretAccessKey);
      expect(JSON.stringify(rows)).not.toContain(ROOT_SECRET);
      expect(JSON.stringify(rows)).not.toContain(LEGACY_SECRET);
      for (const row of rows) expect(row).toMatchObject({ secret_access_key: null, secret_key_id: '1', sealed_secret: expect.any(String) });
      return rows;
    };
    const projected = await expectSealedRows();

    // What the gateway gets (accesskey.get) opens with the keyring to the secrets the keys were made with.
    for (const [accessKeyId, secret] of [
      [created.accessKeyId, created.secretAccessKey],
      [LEGACY_KEY_ID, LEGACY_SECRET],
      ['CAIRNSEALEDROOTKEY01', ROOT_SECRET],
    ] as const) {
      const view = await call<AccessKeyView>(MetadataRpc.getAccessKey, { accessKeyId, minSequence: legacySequence });
      expect(view.secret?.kind).toBe('sealed');
      expect(openAccessKeySecret(keys, accessKeyId, view.secret!)).toBe(secret);
    }

    // A rebuild replays every event, the plaintext one included, into sealed rows again.
    const rebuilt = await service.app.get(ProjectionTracker).startRebuild().done;
    expect(rebuilt).toMatchObject({ state: 'done', error: null });
    const afterRebuild = await expectSealedRows();
    expect(afterRebuild.map((r) => r['access_key_id'])).toEqual(projected.map((r) => r['access_key_id']));
    const legacy = await call<AccessKeyView>(MetadataRpc.getAccessKey, { accessKeyId: LEGACY_KEY_ID });
    expect(openAccessKeySecret(keys, LEGACY_KEY_ID, legacy.secret!)).toBe(LEGACY_SECRET);

    // A master key rotation, then a reseal: every row under version 2, once; the secrets unchanged.
    expect(keys.rotateMaster()).toBe('2');
    expect(await call<ResealAccessKeysReply>(MetadataRpc.resealAccessKeys, {})).toEqual({ version: '2', scanned: 3, resealed: 3 });
    const resealed = await eventually(async () => {
      const rows = await accessKeyRows();
      return rows.every((r) => r['secret_key_id'] === '2') ? rows : undefined;
    }, 20_000);
    expect(JSON.stringify(resealed)).not.toContain(created.secretAccessKey);
    expect(await call<ResealAccessKeysReply>(MetadataRpc.resealAccessKeys, {})).toEqual({ version: '2', scanned: 0, resealed: 0 });
    const after = await call<AccessKeyView>(MetadataRpc.getAccessKey, { accessKeyId: created.accessKeyId });
    expect(after.secret).toMatchObject({ kind: 'sealed', keyId: '2' });
    expect(openAccessKeySecret(keys, created.accessKeyId, after.secret!)).toBe(created.secretAccessKey);
  }, 60_000);
});
