import { canonicalIdOf, type UserView } from '@cairn/protocol';
import type { DataSource } from 'typeorm';
import { schemaOf, tableIn } from '../adapters/metadata-schema';
import { toIso, type Row } from '../adapters/read-model-rows';

/** Bound on one user listing. */
export const USERS_LIST_MAX = 10_000;

/**
 * The user queries over the read model. A user is a row of `users`, or, for the owner of access
 * keys made before users were recorded, implicit: its name, derived canonical id, name as display name.
 */
export class UserQueries {
  private readonly t: (table: string) => string;

  constructor(private readonly dataSource: DataSource) {
    this.t = tableIn(schemaOf(dataSource));
  }

  async byName(user: string): Promise<UserView | null> {
    const rows: Row[] = await this.dataSource.query(`SELECT * FROM ${this.t('users')} WHERE name = $1`, [user]);
    if (rows[0]) return toUserView(rows[0]);
    return (await this.ownsKeys(user)) ? implicitUser(user) : null;
  }

  async byCanonicalId(canonicalId: string): Promise<UserView | null> {
    const rows: Row[] = await this.dataSource.query(`SELECT * FROM ${this.t('users')} WHERE canonical_id = $1`, [canonicalId]);
    if (rows[0]) return toUserView(rows[0]);
    // An implicit user's id is derived from its name: find the key owner whose derived id it is.
    for (const owner of await this.keyOwnersWithoutUser()) if (canonicalIdOf(owner) === canonicalId) return implicitUser(owner);
    return null;
  }

  async byEmail(email: string): Promise<UserView | null> {
    const rows: Row[] = await this.dataSource.query(`SELECT * FROM ${this.t('users')} WHERE email = $1`, [email.toLowerCase()]);
    return rows[0] ? toUserView(rows[0]) : null;
  }

  /** Every user, created or implicit, by name. */
  async list(): Promise<UserView[]> {
    const rows: Row[] = await this.dataSource.query(`SELECT * FROM ${this.t('users')} ORDER BY name LIMIT $1`, [USERS_LIST_MAX]);
    const users = rows.map(toUserView);
    for (const owner of await this.keyOwnersWithoutUser()) users.push(implicitUser(owner));
    return users.sort((a, b) => (a.user < b.user ? -1 : a.user > b.user ? 1 : 0)).slice(0, USERS_LIST_MAX);
  }

  private async ownsKeys(user: string): Promise<boolean> {
    const rows: Row[] = await this.dataSource.query(`SELECT 1 FROM ${this.t('access_keys')} WHERE owner = $1 LIMIT 1`, [user]);
    return rows.length > 0;
  }

  private async keyOwnersWithoutUser(): Promise<string[]> {
    const rows: Row[] = await this.dataSource.query(
      `SELECT DISTINCT k.owner FROM ${this.t('access_keys')} k LEFT JOIN ${this.t('users')} u ON u.name = k.owner WHERE u.name IS NULL ORDER BY k.owner LIMIT $1`,
      [USERS_LIST_MAX],
    );
    return rows.map((r) => String(r['owner']));
  }
}

export function implicitUser(user: string): UserView {
  return { user, canonicalId: canonicalIdOf(user), displayName: user, email: null, createdAt: null };
}

function toUserView(r: Row): UserView {
  return {
    user: String(r['name']),
    canonicalId: String(r['canonical_id']),
    displayName: String(r['display_name']),
    email: r['email'] === null ? null : String(r['email']),
    createdAt: toIso(r['created_at']),
  };
}
