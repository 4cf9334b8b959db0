import { Logger } from '@nestjs/common';
import type { RpcClient } from '@cairn/messaging';
import { CairnError, MetadataErrorCodes, MetadataRpc, type ListNodesReply, type StorageNodeView } from '@cairn/protocol';
import type { HealthRegistry, ServiceIdentity } from '@cairn/service-kit';
import type { StorageCapacityService } from '../chunks/storage-capacity.service';
import type { StorageConfig } from '../storage.config';
import { NodeRegistration, REGISTRATION_RETRY_MS } from './node-registration';

const NODE_ID = 'storage-1';
const CONFIGURED_WEIGHT = 1;
const OPERATOR_WEIGHT = 7;
const OLD_CAPACITY_BYTES = 1_000;
const NEW_CAPACITY_BYTES = 2_000;

type Call = { readonly pattern: string; readonly payload: unknown };

function member(overrides: Partial<StorageNodeView> = {}): StorageNodeView {
  return {
    nodeId: NODE_ID,
    zone: 'z1',
    host: 'h1',
    address: 'http://127.0.0.1:9201',
    weight: OPERATOR_WEIGHT,
    capacityBytes: OLD_CAPACITY_BYTES,
    draining: false,
    joinedAt: '2026-01-01T00:00:00.000Z',
    epoch: 3,
    ...overrides,
  };
}

/** Metadata as the node sees it over RPC: answers per pattern, every request recorded. */
function metadata(answers: Partial<Record<string, (payload: unknown) => unknown>>) {
  const calls: Call[] = [];
  const rpc = {
    request: async (_service: string, pattern: string, payload: unknown) => {
      calls.push({ pattern, payload });
      const answer = answers[pattern];
      if (!answer) throw new Error(`unexpected ${pattern}`);
      return answer(payload);
    },
  } as unknown as RpcClient;
  return { rpc, calls };
}

const alreadyJoined = () => {
  throw new CairnError(MetadataErrorCodes.NodeAlreadyJoined, `node ${NODE_ID} is already a member`);
};
const listed = (...nodes: StorageNodeView[]) => (): ListNodesReply => ({ nodes, epoch: 5 });

function registration(rpc: RpcClient): NodeRegistration {
  const capacity = { snapshot: async () => ({ capacityBytes: NEW_CAPACITY_BYTES }) } as unknown as StorageCapacityService;
  const health = { registerInfo: () => undefined } as unknown as HealthRegistry;
  const config = { CAIRN_STORAGE_ZONE: 'z1', CAIRN_STORAGE_HOST: 'h1', CAIRN_STORAGE_WEIGHT: CONFIGURED_WEIGHT, CAIRN_HTTP_PORT: 9201 } as StorageConfig;
  return new NodeRegistration(rpc, capacity, health, config, { instance: NODE_ID } as ServiceIdentity);
}

async function registered(node: NodeRegistration) {
  for (let i = 0; i < 100 && !node.current.registered; i++) await new Promise((r) => setImmediate(r));
  return node.current;
}

describe('NodeRegistration', () => {
  beforeAll(() => Logger.overrideLogger(false));
  afterEach(() => jest.useRealTimers());

  it('joins with its configured weight and capacity the first time', async () => {
    const { rpc, calls } = metadata({ [MetadataRpc.joinNode]: () => ({ sequence: 1, epoch: 1 }) });
    const node = registration(rpc);
    node.start('http://127.0.0.1:9201');
    expect(await registered(node)).toEqual({ registered: true, epoch: 1, draining: false });
    expect(calls).toEqual([{ pattern: MetadataRpc.joinNode, payload: expect.objectContaining({ nodeId: NODE_ID, weight: CONFIGURED_WEIGHT, capacityBytes: NEW_CAPACITY_BYTES }) }]);
    node.onModuleDestroy();
  });

  it('restarted, keeps the weight the operator set and sends only its new capacity', async () => {
    const { rpc, calls } = metadata({
      [MetadataRpc.joinNode]: alreadyJoined,
      [MetadataRpc.listNodes]: listed(member({ nodeId: 'storage-2', weight: 99 }), member()),
      [MetadataRpc.changeNodeWeight]: () => ({ sequence: 9, epoch: 6 }),
    });
    const node = registration(rpc);
    node.start('http://127.0.0.1:9201');
    expect(await registered(node)).toEqual({ registered: true, epoch: 6, draining: false });
    expect(calls.map((c) => c.pattern)).toEqual([MetadataRpc.joinNode, MetadataRpc.listNodes, MetadataRpc.changeNodeWeight]);
    expect(calls[2].payload).toEqual({ nodeId: NODE_ID, weight: OPERATOR_WEIGHT, capacityBytes: NEW_CAPACITY_BYTES });
    node.onModuleDestroy();
  });

  it('restarted while draining, stays draining: only its capacity is updated, and it says so', async () => {
    const { rpc, calls } = metadata({
      [MetadataRpc.joinNode]: alreadyJoined,
      [MetadataRpc.listNodes]: listed(member({ draining: true })),
      [MetadataRpc.changeNodeWeight]: () => ({ sequence: 9, epoch: 6 }),
    });
    const node = registration(rpc);
    node.start('http://127.0.0.1:9201');
    expect(await registered(node)).toEqual({ registered: true, epoch: 6, draining: true });
    expect(calls.map((c) => c.pattern)).toEqual([MetadataRpc.joinNode, MetadataRpc.listNodes, MetadataRpc.changeNodeWeight]);
    expect(calls[2].payload).toEqual({ nodeId: NODE_ID, weight: OPERATOR_WEIGHT, capacityBytes: NEW_CAPACITY_BYTES });
    node.onModuleDestroy();
  });

  it('restarted with its capacity unchanged, changes nothing', async () => {
    const { rpc, calls } = metadata({
      [MetadataRpc.joinNode]: alreadyJoined,
      [MetadataRpc.listNodes]: listed(member({ capacityBytes: NEW_CAPACITY_BYTES })),
    });
    const node = registration(rpc);
    node.start('http://127.0.0.1:9201');
    expect(await registered(node)).toEqual({ registered: true, epoch: 5, draining: false });
    expect(calls.map((c) => c.pattern)).toEqual([MetadataRpc.joinNode, MetadataRpc.listNodes]);
    node.onModuleDestroy();
  });

  it('refused as a member but not listed as one (removed meanwhile, or the listing lags), tries again rather than guess a weight', async () => {
    jest.useFakeTimers();
    let joins = 0;
    const { rpc, calls } = metadata({
      [MetadataRpc.joinNode]: () => (++joins === 1 ? alreadyJoined() : { sequence: 2, epoch: 2 }),
      [MetadataRpc.listNodes]: listed(member({ nodeId: 'storage-2' })),
    });
    const node = registration(rpc);
    node.start('http://127.0.0.1:9201');
    await jest.advanceTimersByTimeAsync(0);
    expect(node.current).toEqual({ registered: false, lastError: expect.stringContaining('not listed') });
    await jest.advanceTimersByTimeAsync(REGISTRATION_RETRY_MS);
    expect(node.current).toEqual({ registered: true, epoch: 2, draining: false });
    expect(calls.map((c) => c.pattern)).toEqual([MetadataRpc.joinNode, MetadataRpc.listNodes, MetadataRpc.joinNode]);
    expect(calls.some((c) => c.pattern === MetadataRpc.changeNodeWeight)).toBe(false);
    node.onModuleDestroy();
  });
});
