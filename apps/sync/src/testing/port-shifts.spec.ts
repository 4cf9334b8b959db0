import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { keptPortRange } from '@cairn/testing';

const REPO_ROOT = path.resolve(__dirname, '../../../..');
const regionsJs = require(path.join(REPO_ROOT, 'tools', 'dev-stack', 'regions.js')) as {
  regionsLayout(o: { regions: number; root: string; portShift: number }): Layout;
};
interface Layout {
  hub: { clientPort: number; monitorPort: number };
  regions: { nats: { port: number; monitorPort: number; leafPort: number }; link: { listenPort: number } }[];
  proxy: { controlPort: number };
}
/** The most regions any of these tests starts. */
const REGIONS = 3;
/** Where tests lay out a federation on fixed ports (`const PORT_SHIFT = …` in these files). */
const SEARCHED = ['apps/sync/src', 'libs/fault-proxy/src'];

function specFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return specFiles(full);
    return entry.name.endsWith('.spec.ts') ? [full] : [];
  });
}

function portsOf(layout: Layout): number[] {
  return [
    layout.hub.clientPort,
    layout.hub.monitorPort,
    layout.proxy.controlPort,
    ...layout.regions.flatMap((r) => [r.nats.port, r.nats.monitorPort, r.nats.leafPort, r.link.listenPort]),
  ];
}

/**
 * The federation tests bind fixed ports, and two Nx projects' tests run at once: those ports must
 * lie below the range keptPort() draws from (a storage node of the scheduler's tests could hold
 * one, or bind it again on its restart) and so below the kernel's ephemeral range (any outgoing
 * connection may hold a port there as its local port), and no two files may share one.
 */
describe('the federation tests’ fixed ports', () => {
  const shifts = SEARCHED.flatMap((dir) => specFiles(path.join(REPO_ROOT, dir))).flatMap((file) => {
    const match = /const (?:TEST_)?PORT_SHIFT = ([\d_]+);/.exec(readFileSync(file, 'utf8'));
    return match ? [{ file: path.relative(REPO_ROOT, file), shift: Number(match[1].replace(/_/g, '')) }] : [];
  });

  it('are found', () => {
    expect(shifts.length).toBeGreaterThanOrEqual(6);
  });

  it('lie below the ports keptPort() hands out and the ephemeral range, and no two files share one', () => {
    const { floor } = keptPortRange();
    const owner = new Map<number, string>();
    const problems: string[] = [];
    for (const { file, shift } of shifts) {
      for (const port of portsOf(regionsJs.regionsLayout({ regions: REGIONS, root: '/nonexistent', portShift: shift }))) {
        if (port >= floor) problems.push(`${file} (PORT_SHIFT ${shift}) binds ${port}, not below ${floor}`);
        const other = owner.get(port);
        if (other && other !== file) problems.push(`${file} and ${other} both bind ${port}`);
        owner.set(port, file);
      }
    }
    expect(problems).toEqual([]);
  });
});
