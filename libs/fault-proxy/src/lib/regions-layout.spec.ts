import * as path from 'node:path';

/** The layout of `npm run start:regions` (tools/dev-stack/regions.js): ports and names, without starting anything. */
interface RegionLayout {
  name: string;
  portOffset: number;
  databaseName: string;
  redisUrl: string;
  nats: { port: number; monitorPort: number; leafPort: number; domain: string };
  link: { name: string; listenPort: number; targetPort: number };
}
interface Layout {
  regions: RegionLayout[];
  hub: { clientPort: number; monitorPort: number };
  proxy: { controlPort: number };
}
const REPO_ROOT = path.resolve(__dirname, '../../../..');
const regions = require(path.join(REPO_ROOT, 'tools', 'dev-stack', 'regions.js')) as {
  regionsLayout(o: { regions: number; root: string; portShift?: number }): Layout;
  regionServiceProcesses(layout: Layout, region: RegionLayout): { env: Record<string, string> }[];
  natsRegionConfig(o: Record<string, string>): string;
  MAX_REGION_COUNT: number;
};

describe('the start:regions layout', () => {
  it('names the regions region-1… and puts each 1000 ports above the previous (S3 on 9000, 10000, 11000)', () => {
    const layout = regions.regionsLayout({ regions: 3, root: '/r' });
    expect(layout.regions.map((r) => r.name)).toEqual(['region-1', 'region-2', 'region-3']);
    const s3 = layout.regions.map((r) => regions.regionServiceProcesses(layout, r).find((p) => p.env['CAIRN_INSTANCE'] === 'access')!.env['CAIRN_HTTP_PORT']);
    expect(s3).toEqual(['9000', '10000', '11000']);
    expect(layout.regions.map((r) => [r.nats.port, r.nats.domain, r.databaseName, r.redisUrl])).toEqual([
      [5222, 'region-1', 'cairn_region_1', 'redis://127.0.0.1:6379/1'],
      [6222, 'region-2', 'cairn_region_2', 'redis://127.0.0.1:6379/2'],
      [7222, 'region-3', 'cairn_region_3', 'redis://127.0.0.1:6379/3'],
    ]);
    // Each region's link ends at that region's own leaf listener.
    for (const r of layout.regions) expect([r.link.name, r.link.targetPort]).toEqual([r.name, r.nats.leafPort]);
  });

  it('uses no port twice, even with the most regions, and none of the machine NATS, Postgres or Redis ports', () => {
    const layout = regions.regionsLayout({ regions: regions.MAX_REGION_COUNT, root: '/r' });
    const ports = [
      layout.hub.clientPort,
      layout.hub.monitorPort,
      layout.proxy.controlPort,
      ...layout.regions.flatMap((r) => [
        r.nats.port,
        r.nats.monitorPort,
        r.nats.leafPort,
        r.link.listenPort,
        ...regions.regionServiceProcesses(layout, r).map((p) => Number(p.env['CAIRN_HTTP_PORT'])),
      ]),
    ];
    expect(new Set(ports).size).toBe(ports.length);
    for (const taken of [4222, 5432, 6379]) expect(ports).not.toContain(taken);
    expect(Math.max(...ports)).toBeLessThan(65_536);
  });

  it('refuses a region count it cannot lay out', () => {
    expect(() => regions.regionsLayout({ regions: 0, root: '/r' })).toThrow(/--regions/);
    expect(() => regions.regionsLayout({ regions: regions.MAX_REGION_COUNT + 1, root: '/r' })).toThrow(/--regions/);
  });

  it("keeps a region's own subjects off the hub's link user", () => {
    const config = regions.natsRegionConfig({ serverName: 's', listen: 'l', http: 'h', storeDir: '/d', domain: 'region-9', leafListen: 'x', leafAdvertise: 'y' });
    for (const family of ['rpc', 'raft', 'hb', 'meta', 'cluster', 'dlq']) expect(config).toContain(`"${family}.>", "*.${family}.>"`);
    expect(config).toContain('domain: "region-9"');
  });
});
