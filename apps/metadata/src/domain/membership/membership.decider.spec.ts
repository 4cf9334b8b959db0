import { deciderSpecification, foldEvents } from '@cairn/eventing';
import type { StorageNodeJoined } from '@cairn/protocol';
import { hasCode, MetadataError } from '../shared/metadata.errors';
import { membershipDecider } from './membership.decider';
import type { JoinStorageNode } from './membership.commands';

const spec = deciderSpecification(membershipDecider);
const at = '2026-01-01T00:00:00.000Z';
const GiB = 1024 ** 3;
const join = (nodeId: string, over: Partial<JoinStorageNode> = {}): JoinStorageNode => ({
  type: 'JoinStorageNode',
  nodeId,
  zone: 'z1',
  host: `host-${nodeId}`,
  address: `http://127.0.0.1:9201`,
  weight: 100,
  capacityBytes: 100 * GiB,
  joinedAt: at,
  ...over,
});
const joined = (nodeId: string, epoch: number): StorageNodeJoined => {
  const { type: _type, ...data } = join(nodeId);
  return { type: 'StorageNodeJoined', data: { ...data, epoch } };
};

describe('membership decider', () => {
  it('joins nodes, each change bumping the ring epoch', () => {
    spec.given([]).when(join('n1')).then([joined('n1', 1)]);
    spec.given([joined('n1', 1)]).when(join('n2')).then([joined('n2', 2)]);
  });

  it('refuses a node that is already a member', () => spec.given([joined('n1', 1)]).when(join('n1')).thenThrows(MetadataError, hasCode('NODE_ALREADY_JOINED')));

  it.each([
    ['a node id with a dot', join('n.1')],
    ['a zero weight', join('n1', { weight: 0 })],
    ['a fractional weight', join('n1', { weight: 1.5 })],
    ['a negative capacity', join('n1', { capacityBytes: -1 })],
    ['no zone', join('n1', { zone: '' })],
  ])('refuses %s with InvalidArgument', (_, command) => spec.given([]).when(command).thenThrows(MetadataError, hasCode('InvalidArgument')));

  it('changes the weight, and does nothing when it is the same', () => {
    spec
      .given([joined('n1', 1)])
      .when({ type: 'ChangeStorageNodeWeight', nodeId: 'n1', weight: 50, capacityBytes: 100 * GiB })
      .then([{ type: 'StorageNodeWeightChanged', data: { nodeId: 'n1', weight: 50, capacityBytes: 100 * GiB, epoch: 2 } }]);
    spec.given([joined('n1', 1)]).when({ type: 'ChangeStorageNodeWeight', nodeId: 'n1', weight: 100, capacityBytes: 100 * GiB }).then([]);
  });

  it('drains a node once', () => {
    const drained = { type: 'StorageNodeDrained', data: { nodeId: 'n1', drainedAt: at, epoch: 2 } } as const;
    spec.given([joined('n1', 1)]).when({ type: 'DrainStorageNode', nodeId: 'n1', drainedAt: at }).then([drained]);
    spec.given([joined('n1', 1), drained]).when({ type: 'DrainStorageNode', nodeId: 'n1', drainedAt: at }).then([]);
  });

  it('removes a node, which may then join again at a later epoch', () => {
    const removed = { type: 'StorageNodeRemoved', data: { nodeId: 'n1', removedAt: at, epoch: 2 } } as const;
    spec.given([joined('n1', 1)]).when({ type: 'RemoveStorageNode', nodeId: 'n1', removedAt: at }).then([removed]);
    spec.given([joined('n1', 1), removed]).when(join('n1')).then([joined('n1', 3)]);
    expect(foldEvents(membershipDecider, [joined('n1', 1), removed]).nodes).toEqual({});
  });

  it('answers NODE_NOT_FOUND for changes to non-members', () => {
    spec.given([]).when({ type: 'ChangeStorageNodeWeight', nodeId: 'n1', weight: 5, capacityBytes: 0 }).thenThrows(MetadataError, hasCode('NODE_NOT_FOUND'));
    spec.given([]).when({ type: 'DrainStorageNode', nodeId: 'n1', drainedAt: at }).thenThrows(MetadataError, hasCode('NODE_NOT_FOUND'));
    spec.given([]).when({ type: 'RemoveStorageNode', nodeId: 'n1', removedAt: at }).thenThrows(MetadataError, hasCode('NODE_NOT_FOUND'));
  });

  it('refuses to fold a history whose epochs skip', () =>
    expect(() => foldEvents(membershipDecider, [joined('n1', 1), joined('n2', 3)])).toThrow(/epoch 3 follows epoch 1/));
});
