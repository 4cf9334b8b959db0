import { Controller, Get, Header, Param, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiExcludeEndpoint, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Access } from '@cairn/service-kit';
import type { Response } from 'express';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { DashboardQueryDto } from './dashboard.request.dto';
import { DashboardService } from './dashboard.service';
import type { DashboardView } from './dashboard.view';

/** The page's files, served as they are: no build step. */
export const DASHBOARD_STATIC_DIR = path.join(__dirname, 'static');
const ASSETS: Readonly<Record<string, string>> = {
  'app.js': 'text/javascript; charset=utf-8',
  'charts.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
};
/**
 * The page runs only its own files and talks only to this service; the token it holds (from the
 * URL fragment or the sign-in form) goes nowhere else.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

function loadStatic(): ReadonlyMap<string, Buffer> {
  return new Map(['index.html', ...Object.keys(ASSETS)].map((name) => [name, readFileSync(path.join(DASHBOARD_STATIC_DIR, name))]));
}

/**
 * The dashboard (docs/architecture.md §6): a page at the service's root, public because it holds
 * no data and no secret, and its data at GET /api/dashboard for an operator token, which the page
 * sends as a Bearer header.
 */
@ApiTags('dashboard')
@Controller()
export class DashboardController {
  private readonly files = loadStatic();

  constructor(private readonly dashboard: DashboardService) {}

  @Get()
  @Access('public')
  @ApiExcludeEndpoint()
  page(@Res() res: Response): void {
    this.send(res, 'index.html', 'text/html; charset=utf-8');
  }

  /** Where the first, server-rendered page was. */
  @Get('dashboard')
  @Access('public')
  @ApiExcludeEndpoint()
  moved(@Res() res: Response): void {
    res.redirect(302, '/');
  }

  @Get('dashboard/:file')
  @Access('public')
  @ApiExcludeEndpoint()
  asset(@Res() res: Response, @Param('file') file: string): void {
    const type = ASSETS[file];
    if (!type) {
      res.status(404).type('text/plain').send('not found');
      return;
    }
    this.send(res, file, type);
  }

  @Get('api/dashboard')
  @Access('operator')
  @ApiBearerAuth()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Everything the dashboard shows: regions, storage nodes with health, capacity and zone, instances, alerts, jobs with progress and ETA, traffic, lag, and chart points newer than `since`' })
  data(@Query() query: DashboardQueryDto): Promise<DashboardView> {
    return this.dashboard.view(query.since);
  }

  private send(res: Response, name: string, type: string): void {
    res.setHeader('Content-Type', type);
    res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('Cache-Control', 'no-cache');
    res.send(this.files.get(name));
  }
}
