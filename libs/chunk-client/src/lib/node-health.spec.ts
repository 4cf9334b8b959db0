import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HashRing, contentHashOf } from '@cairn/hashing';
import type { InstanceHealthEvent } from '@cairn/protocol';
import { ChunkClient, NODE_DOWN_REASON } from './chunk-client';
import { NodeHealthView } from './node-health';
import { InMemoryUnderReplicationRecorder } from './under-replication-recorder.port';
import { regionReplication } from './replication-strategy';

const health = (type: InstanceHealthEvent['type'], instance: string, service = 'storage'): InstanceHealthEvent =>
  ({ type, data: { region: 'region-1', service, instance, phi: 9, lastHeartbeatAt: '2026-01-01T00:00:00.000Z', decidedBy: 'monitoring-1' } }) as InstanceHealthEvent;

describe('NodeHealthView', () => {
  it('holds the storage nodes declared down until they recover, in stream order, and ignores suspicion and other services', () => {
    const view = new NodeHealthView();
    const changes: string[] = [];
    view.onChange((c) => changes.push(`${c.nodeId} ${c.down ? 'down' : 'up'}`));
    view.apply(health('NodeSuspected', 'n1'), 1);
    expect(view.isDown('n1')).toBe(false);
    view.apply(health('NodeDown', 'n1'), 2);
    view.apply(health('NodeDown', 'access-1', 'access'), 3);
    expect(view.isDown('n1')).toBe(true);
    expect(view.isDown('access-1')).toBe(false);
    expect(view.downNodes().get('n1')).toBe(Date.parse('2026-01-01T00:00:00.000Z'));
    view.apply(health('NodeRecovered', 'n1'), 2); // not newer: ignored
    expect(view.isDown('n1')).toBe(true);
    view.apply(health('NodeRecovered', 'n1'), 5);
    expect(view.isDown('n1')).toBe(false);
    expect(changes).toEqual(['n1 down', 'n1 up']);
  });
});

/** A storage node's data plane as far as the chunk client sees it: stores PUTs, serves GETs; a hung one never answers. */
class FakeNode {
  readonly chunks = new Map<string, Buffer>();
  requests = 0;
  url = '';
  private server!: Server;
  private readonly open = new Set<ServerResponse>();

  constructor(private readonly hung = false) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const res of this.open) res.destroy();
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.requests++;
    if (this.hung) {
      this.open.add(res);
      return;
    }
    const hash = (req.url ?? '').split('/').pop()!.split('?')[0];
    if (req.method === 'PUT') {
      const parts: Buffer[] = [];
      for await (const p of req) parts.push(p as Buffer);
      this.chunks.set(hash, Buffer.concat(parts));
      res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ hash, existed: false }));
      return;
    }
    const bytes = this.chunks.get(hash);
    if (!bytes) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-length': String(bytes.length) }).end(bytes);
  }
}

describe('ChunkClient with node health', () => {
  const nodes = new Map<string, FakeNode>([
    ['n1', new FakeNode()],
    ['n2', new FakeNode()],
    ['n3', new FakeNode(true)],
  ]);
  const ring = HashRing.build({ epoch: 1, members: [...nodes.keys()].map((nodeId, i) => ({ nodeId, zone: `z${i}`, host: `h${i}`, weight: 1 })) });
  let view: NodeHealthView;
  let recorder: InMemoryUnderReplicationRecorder;
  let client: ChunkClient;

  beforeAll(async () => {
    await Promise.all([...nodes.values()].map((n) => n.start()));
  });
  afterAll(async () => {
    await Promise.all([...nodes.values()].map((n) => n.stop()));
  });
  beforeEach(() => {
    view = new NodeHealthView();
    recorder = new InMemoryUnderReplicationRecorder();
    for (const n of nodes.values()) n.requests = 0;
    client = new ChunkClient({ ring: () => ring, addressOf: (id) => nodes.get(id)!.url, signer: (dispatch) => dispatch, underReplication: recorder, health: view, strategy: regionReplication(3).standard });
  });
  afterEach(() => client.close());

  it('sends nothing to a node declared down: the others make the quorum, the skipped replica is on record for repair', async () => {
    view.apply(health('NodeDown', 'n3'), 1);
    const bytes = Buffer.from('written while n3 is down');
    const result = await client.writeChunk(bytes);
    expect([...result.stored].sort()).toEqual(['n1', 'n2']);
    expect(result.missed).toEqual([expect.objectContaining({ nodeId: 'n3', reason: NODE_DOWN_REASON })]);
    expect(recorder.entries).toEqual([expect.objectContaining({ hash: contentHashOf(bytes), nodeId: 'n3', reason: NODE_DOWN_REASON })]);
    expect(nodes.get('n3')!.requests).toBe(0);
  });

  it('reads from a node declared down only after every other', async () => {
    const bytes = Buffer.from('read around n3');
    await client.writeChunk(bytes);
    view.apply(health('NodeDown', 'n3'), 1);
    // Even when n3 looks fastest, it is tried last.
    client.latency.observe('n3', 0);
    client.latency.observe('n1', 50);
    client.latency.observe('n2', 60);
    nodes.get('n3')!.requests = 0;
    const read = await client.readChunk(contentHashOf(bytes));
    expect(read.servedBy).not.toBe('n3');
    expect(read.fellOverFrom).toEqual([]);
    expect(nodes.get('n3')!.requests).toBe(0);
  });

  it('tries every replica when too few are left for the quorum (monitoring may be wrong), and starts sending again on recovery', async () => {
    view.apply(health('NodeDown', 'n2'), 1);
    view.apply(health('NodeDown', 'n3'), 2);
    const first = await client.writeChunk(Buffer.from('two of three declared down'));
    expect([...first.stored].sort()).toEqual(['n1', 'n2']);
    expect(nodes.get('n3')!.requests).toBe(1);

    view.apply(health('NodeRecovered', 'n2'), 3);
    view.apply(health('NodeRecovered', 'n3'), 4);
    nodes.get('n3')!.requests = 0;
    await client.writeChunk(Buffer.from('all back'));
    expect(nodes.get('n3')!.requests).toBe(1);
  });
});
