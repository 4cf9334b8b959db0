import { canonicalIdOf, ROOT_ACCESS_KEY_OWNER, type AccessKeySecret, type AccessKeyView } from '@cairn/protocol';
import type { DataSource } from 'typeorm';
import { schemaOf, tableIn } from '../adapters/metadata-schema';
import { toIso, type Row } from '../adapters/read-model-rows';

/** Bound on one access-key listing. */
export const ACCESS_KEYS_LIST_MAX = 10_000;

/** The access-key queries over the read model (the access_keys table). */
export class AccessKeyQueries {
  private readonly t: (table: string) => string;

  constructor(private readonly dataSource: DataSource) {
    this.t = tableIn(schemaOf(dataSource));
  }

  async getAccessKey(accessKeyId: string): Promise<AccessKeyView | null> {
    const rows: Row[] = await this.dataSource.query(`SELECT k.*, u.display_name FROM ${this.t('access_keys')} k LEFT JOIN ${this.t('users')} u ON u.name = k.owner WHERE k.access_key_id = $1`, [accessKeyId]);
    return rows[0] ? toAccessKeyView(rows[0]) : null;
  }

  /** Every key whose row is not sealed under `version` (plaintext, or an older master version), with its stored secret. */
  async secretsNotSealedUnder(version: string): Promise<{ readonly accessKeyId: string; readonly secret: AccessKeySecret }[]> {
    const rows: Row[] = await this.dataSource.query(
      `SELECT k.*, NULL AS display_name FROM ${this.t('access_keys')} k WHERE k.secret_key_id IS DISTINCT FROM $1 ORDER BY k.access_key_id LIMIT $2`,
      [version, ACCESS_KEYS_LIST_MAX],
    );
    return rows.map((r) => {
      const view = toAccessKeyView(r);
      return { accessKeyId: view.accessKeyId, secret: view.secret as AccessKeySecret };
    });
  }

  /** Every key (of one owner, when given), ordered by id, without secrets: listings never carry them. */
  async listAccessKeys(owner?: string): Promise<AccessKeyView[]> {
    const rows: Row[] =
      owner === undefined
        ? await this.dataSource.query(`SELECT k.*, u.display_name FROM ${this.t('access_keys')} k LEFT JOIN ${this.t('users')} u ON u.name = k.owner ORDER BY k.access_key_id LIMIT $1`, [ACCESS_KEYS_LIST_MAX])
        : await this.dataSource.query(`SELECT k.*, u.display_name FROM ${this.t('access_keys')} k LEFT JOIN ${this.t('users')} u ON u.name = k.owner WHERE k.owner = $1 ORDER BY k.access_key_id LIMIT $2`, [owner, ACCESS_KEYS_LIST_MAX]);
    return rows.map((r) => {
      const { secret: _secret, ...view } = toAccessKeyView(r);
      return view;
    });
  }
}

function toAccessKeyView(r: Row): AccessKeyView {
  const owner = String(r['owner']);
  return {
    accessKeyId: String(r['access_key_id']),
    secret: typeof r['sealed_secret'] === 'string' ? { kind: 'sealed', keyId: String(r['secret_key_id']), ciphertext: r['sealed_secret'] } : { kind: 'plaintext', value: String(r['secret_access_key']) },
    owner,
    canonicalId: canonicalIdOf(owner),
    displayName: typeof r['display_name'] === 'string' ? r['display_name'] : owner,
    isRoot: owner === ROOT_ACCESS_KEY_OWNER,
    createdAt: toIso(r['created_at']),
    revokedAt: r['revoked_at'] === null ? null : toIso(r['revoked_at']),
  };
}
