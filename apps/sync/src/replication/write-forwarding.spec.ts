import { CairnError, FederationOps, type FederationOp } from '@cairn/protocol';
import type { RpcClient } from '@cairn/messaging';
import type { FederationRequester } from '../federation/federation-rpc';
import type { ReplicaChunkPuller } from '../anti-entropy/replica-chunks.port';
import { WriteForwarding } from './write-forwarding';

/** A link to the home that answers only when the test says so (or never: a cut link). */
class HeldLink {
  readonly sent: { region: string; op: FederationOp }[] = [];
  private answer?: (value: unknown) => void;

  request<T>(region: string, op: FederationOp): Promise<T> {
    this.sent.push({ region, op });
    return new Promise<T>((resolve) => (this.answer = resolve as (value: unknown) => void));
  }

  reply(value: unknown): void {
    this.answer?.(value);
  }
}

const deleteRequest = { homeRegion: 'region-1', op: 'delete', request: { bucket: 'b', key: 'k' } };

function forwardingOver(link: HeldLink): WriteForwarding {
  return new WriteForwarding('region-2', {} as RpcClient, link as unknown as FederationRequester, {} as ReplicaChunkPuller);
}

describe('WriteForwarding.take: a write forwarded to the home', () => {
  it('answers with the home reply while the home is reachable', async () => {
    const link = new HeldLink();
    const taking = forwardingOver(link).take(deleteRequest, () => false);
    await new Promise((resolve) => setTimeout(resolve, 20));
    link.reply({ versionId: 'v1', sequence: 42 });
    await expect(taking).resolves.toMatchObject({ versionId: 'v1', sequence: 0, homeSequence: 42 });
    expect(link.sent).toEqual([{ region: 'region-1', op: FederationOps.forwardWrite }]);
  });

  it('gives up with ServiceUnavailable as soon as this region finds the home down, instead of waiting out the link timeout', async () => {
    const link = new HeldLink();
    let down = false;
    const started = Date.now();
    const taking = forwardingOver(link).take(deleteRequest, (region) => region === 'region-1' && down);
    setTimeout(() => (down = true), 100);
    const failure = await taking.catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(CairnError);
    expect((failure as CairnError).code).toBe('ServiceUnavailable');
    expect((failure as CairnError).message).toMatch(/region-1 .*not acknowledged; retry/);
    expect(Date.now() - started).toBeLessThan(5_000);
    // A late answer from the home changes nothing (and is no unhandled rejection).
    link.reply({ versionId: 'late' });
  });

  it('does not send a write to a home already found down', async () => {
    const link = new HeldLink();
    await expect(forwardingOver(link).take(deleteRequest, () => true)).rejects.toMatchObject({ code: 'ServiceUnavailable' });
    expect(link.sent).toEqual([]);
  });
});
