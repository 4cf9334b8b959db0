import type { Heartbeat } from '@cairn/protocol';
import { originOfSubject, senderMismatch } from './heartbeat-origin';

const hb = (region: string, service: string, instance: string) => ({ region, service, instance }) as Heartbeat;

describe('heartbeat origin', () => {
  it('reads region, service and instance from the subject after its prefix', () => {
    expect(originOfSubject('ns1.hb.region-1.storage.storage-1', 'ns1.hb.')).toEqual({ region: 'region-1', service: 'storage', instance: 'storage-1' });
    expect(originOfSubject('hb.region-1.storage', 'hb.')).toBeNull();
    expect(originOfSubject('other.hb.region-1.storage.x', 'hb.')).toBeNull();
  });

  it('takes a heartbeat only from the instance its subject and body name', () => {
    const origin = { region: 'region-1', service: 'storage', instance: 'storage-1' };
    expect(senderMismatch(origin, 'storage/storage-1', hb('region-1', 'storage', 'storage-1'))).toBeNull();
    expect(senderMismatch(origin, 'storage/storage-2', hb('region-1', 'storage', 'storage-1'))).toMatch(/signed by storage\/storage-2/);
    expect(senderMismatch(origin, 'access/storage-1', hb('region-1', 'storage', 'storage-1'))).toMatch(/signed by/);
    expect(senderMismatch(origin, 'storage/storage-1', hb('region-1', 'storage', 'storage-2'))).toMatch(/body names/);
    expect(senderMismatch(origin, 'storage/storage-1', hb('region-2', 'storage', 'storage-1'))).toMatch(/body names/);
  });
});
