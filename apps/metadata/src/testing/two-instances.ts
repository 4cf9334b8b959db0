import { PostgresConnection, type RunningService } from '@cairn/service-kit';
import { bootForTest, dropNamespace } from '@cairn/testing';
import type { MetadataConfig } from '../metadata.config';
import { MetadataService } from '../service';

type Instance = RunningService<MetadataConfig>;

/**
 * Two metadata instances (metadata-a, metadata-b) in one namespace, both listening: the first
 * creates the schema and runs the migrations; the second then finds them.
 */
export async function bootTwoInstances(ns: string, env: Record<string, string>): Promise<readonly [Instance, Instance]> {
  const a = await bootForTest(MetadataService, ns, { ...env, CAIRN_INSTANCE: 'metadata-a' });
  try {
    await a.app.get(PostgresConnection).ready();
    const b = await bootForTest(MetadataService, ns, { ...env, CAIRN_INSTANCE: 'metadata-b' });
    await Promise.all([a.transport.started, b.transport.started]);
    return [a, b];
  } catch (error) {
    await a.close();
    throw error;
  }
}

/** Closes what bootTwoInstances started (b first) and drops the namespace. */
export async function closeTwoInstances(ns: string, a: Instance | undefined, b: Instance | undefined): Promise<void> {
  await b?.close();
  await a?.close();
  await dropNamespace(ns);
}
