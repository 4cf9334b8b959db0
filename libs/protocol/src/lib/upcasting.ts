import type { EventEnvelope } from './envelope';

/**
 * Upcasters turn an event stored at an old schema version into the current one, on read. Stored
 * events are never rewritten. Each upcaster lifts exactly one version step.
 */
export interface Upcaster {
  readonly type: string;
  readonly fromVersion: number;
  upcast(data: unknown): unknown;
}

export class UpcasterRegistry {
  private readonly byKey = new Map<string, Upcaster>();
  private readonly currentVersions = new Map<string, number>();

  constructor(currentVersions: Readonly<Record<string, number>>, upcasters: readonly Upcaster[] = []) {
    for (const [type, version] of Object.entries(currentVersions)) this.currentVersions.set(type, version);
    for (const u of upcasters) {
      const key = `${u.type}@${u.fromVersion}`;
      if (this.byKey.has(key)) throw new Error(`two upcasters for ${key}`);
      this.byKey.set(key, u);
    }
  }

  currentVersionOf(type: string): number {
    return this.currentVersions.get(type) ?? 1;
  }

  upcast<E extends EventEnvelope>(envelope: E): E {
    const target = this.currentVersionOf(envelope.type);
    if (envelope.schemaVersion > target) {
      throw new Error(
        `event ${envelope.id} of type ${envelope.type} has schema version ${envelope.schemaVersion}, newer than this reader's ${target}`,
      );
    }
    let version = envelope.schemaVersion;
    let data = envelope.data;
    while (version < target) {
      const step = this.byKey.get(`${envelope.type}@${version}`);
      if (!step) throw new Error(`no upcaster for ${envelope.type} from version ${version}`);
      data = step.upcast(data);
      version += 1;
    }
    return version === envelope.schemaVersion ? envelope : { ...envelope, schemaVersion: version, data };
  }
}
