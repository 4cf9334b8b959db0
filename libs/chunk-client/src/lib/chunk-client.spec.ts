import { HashRing } from '@cairn/hashing';
import { ChunkClient } from './chunk-client';
import { ChunkClientErrorCodes } from './chunk-client.errors';
import { InMemoryUnderReplicationRecorder } from './under-replication-recorder.port';
import { regionReplication } from './replication-strategy';

const STANDARD = regionReplication(3).standard;

describe('ChunkClient with fewer storage nodes than the replication factor', () => {
  const ring = HashRing.build({ epoch: 1, members: [{ nodeId: 'a', zone: 'z1', host: 'h1', weight: 1 }, { nodeId: 'b', zone: 'z2', host: 'h2', weight: 1 }] });

  it('refuses a write instead of storing fewer copies than promised', async () => {
    const recorder = new InMemoryUnderReplicationRecorder();
    const client = new ChunkClient({ ring: () => ring, addressOf: () => 'http://127.0.0.1:1', signer: (dispatch) => dispatch, underReplication: recorder, strategy: STANDARD });
    await expect(client.writeChunk(Buffer.from('x'))).rejects.toMatchObject({ code: ChunkClientErrorCodes.TooFewStorageNodes });
    expect(recorder.entries).toEqual([]);
    await client.close();
  });

  it('still knows where to read from', () => {
    const nodes = STANDARD.readNodes(ring, 'ab'.repeat(32) as never);
    expect(nodes.map((n) => n.nodeId).sort()).toEqual(['a', 'b']);
  });
});
