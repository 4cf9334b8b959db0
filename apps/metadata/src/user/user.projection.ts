import { assertNever } from '@cairn/eventing';
import type { UserEvent } from '@cairn/protocol';
import type { EntityManager } from 'typeorm';
import { eventTypes, type MetadataProjectionPart } from '../projections/projection-part';

/** users: one row per user created. */
export class UserProjection implements MetadataProjectionPart<UserEvent> {
  readonly handles = eventTypes<UserEvent>({ UserCreated: true });

  constructor(private readonly t: (table: string) => string) {}

  async apply(tx: EntityManager, event: UserEvent): Promise<void> {
    switch (event.type) {
      case 'UserCreated': {
        const d = event.data;
        await tx.query(`INSERT INTO ${this.t('users')} (name, canonical_id, display_name, email, created_at) VALUES ($1, $2, $3, $4, $5::timestamptz)`, [
          d.user,
          d.canonicalId,
          d.displayName,
          d.email ?? null,
          d.createdAt,
        ]);
        return;
      }
      default:
        return assertNever(event.type as never, 'user event');
    }
  }
}
