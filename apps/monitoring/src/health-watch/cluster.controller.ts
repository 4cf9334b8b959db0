import { Controller, Get, Header } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Access } from '@cairn/service-kit';
import { HeartbeatWatcher, type InstanceView } from './heartbeat-watcher.service';

const DASHBOARD_REFRESH_SECONDS = 2;

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

@ApiTags('cluster')
@Access('operator')
@Controller()
export class ClusterController {
  constructor(private readonly watcher: HeartbeatWatcher) {}

  @Get('cluster/instances')
  @ApiOperation({ summary: 'Every service instance heard from, with the failure detector’s verdict and its last heartbeat' })
  instances(): { leader: boolean; instances: InstanceView[] } {
    return { leader: this.watcher.leading, instances: this.watcher.instances() };
  }

  @Get('dashboard')
  @Header('Content-Type', 'text/html; charset=utf-8')
  @ApiOperation({ summary: 'A page showing the region’s instances and their health' })
  dashboard(): string {
    const rows = this.watcher
      .instances()
      .map((i) => {
        const hb = i.heartbeat;
        const storage = hb?.extra && typeof hb.extra['freeBytes'] === 'number' ? `${formatBytes(Number(hb.extra['freeBytes']))} free of ${formatBytes(Number(hb.extra['capacityBytes']))}` : '';
        return `<tr class="${i.status}"><td>${escapeHtml(i.service)}</td><td>${escapeHtml(i.instance)}</td><td>${i.status}</td><td>${i.phi}</td><td>${escapeHtml(i.lastHeartbeatAt ?? '')}</td><td>${hb ? hb.uptimeSeconds : ''}</td><td>${hb ? formatBytes(hb.load.rssBytes) : ''}</td><td>${hb ? hb.load.inFlightRequests : ''}</td><td>${storage}</td></tr>`;
      })
      .join('\n');
    return `<!doctype html>
<html><head><meta charset="utf-8"><meta http-equiv="refresh" content="${DASHBOARD_REFRESH_SECONDS}"><title>Cairn — region health</title>
<style>body{font:14px system-ui,sans-serif;margin:2em}table{border-collapse:collapse}td,th{padding:4px 10px;border-bottom:1px solid #ddd;text-align:left}
tr.up td:nth-child(3){color:#080}tr.suspected td:nth-child(3){color:#b60}tr.down td:nth-child(3){color:#c00;font-weight:bold}</style></head>
<body><h1>Cairn — region health</h1>
<table><thead><tr><th>service</th><th>instance</th><th>status</th><th>phi</th><th>last heartbeat</th><th>uptime s</th><th>memory</th><th>in flight</th><th>storage</th></tr></thead>
<tbody>
${rows || '<tr><td colspan="9">no heartbeats yet</td></tr>'}
</tbody></table></body></html>`;
  }
}
