import { CairnError, MetadataErrorCodes, type ControlProbe, type ControlProgressRequest } from '@cairn/protocol';
import type { ControlCommand } from './domain/control-state';

const BUCKET_PATTERN = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const ISO_TIME_MAX = 40;
const DRILL_ID_PATTERN = /^[A-Za-z0-9-]{1,64}$/;
const TEXT_MAX = 120;

function invalid(message: string): CairnError {
  return new CairnError(MetadataErrorCodes.InvalidArgument, message);
}

function record(payload: unknown, what: string): Record<string, unknown> {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) throw invalid(`${what} must be an object`);
  return payload as Record<string, unknown>;
}

function region(value: unknown, voters: readonly string[], field: string): string {
  if (typeof value !== 'string' || !voters.includes(value)) throw invalid(`${field} must be a region of the control group (${voters.join(', ')})`);
  return value;
}

function bucket(value: unknown): string {
  if (typeof value !== 'string' || !BUCKET_PATTERN.test(value)) throw invalid('bucket must be a bucket name');
  return value;
}

function epoch(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw invalid('epoch must be a non-negative integer');
  return value;
}

function at(value: unknown): string {
  if (typeof value !== 'string' || value.length > ISO_TIME_MAX || Number.isNaN(Date.parse(value))) throw invalid('at must be an ISO time');
  return value;
}

function drillId(value: unknown): string {
  if (typeof value !== 'string' || !DRILL_ID_PATTERN.test(value)) throw invalid('id must be a drill id');
  return value;
}

function text(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > TEXT_MAX) throw invalid(`${field} must be a short text`);
  return value;
}

/** A probe from another region's sync (signed; still checked, as every input is). */
export function validProbe(payload: unknown, voters: readonly string[]): ControlProbe {
  return { from: region(record(payload, 'a probe').from, voters, 'from') };
}

export function validProgressRequest(payload: unknown, voters: readonly string[]): ControlProgressRequest {
  return { source: region(record(payload, 'a progress request').source, voters, 'source') };
}

/** A command another region hands the leader to commit. */
export function validControlCommand(payload: unknown, voters: readonly string[]): ControlCommand {
  const c = record(payload, 'a control command');
  switch (c['type']) {
    case 'RegisterBucket':
      return { type: 'RegisterBucket', bucket: bucket(c['bucket']), home: region(c['home'], voters, 'home'), at: at(c['at']) };
    case 'UnregisterBucket':
      return { type: 'UnregisterBucket', bucket: bucket(c['bucket']) };
    case 'ReportRegions': {
      const down = c['down'];
      if (!Array.isArray(down) || down.length > voters.length) throw invalid('down must be a list of regions');
      const seq = c['seq'];
      if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) throw invalid('seq must be a non-negative integer');
      return { type: 'ReportRegions', observer: region(c['observer'], voters, 'observer'), down: down.map((d) => region(d, voters, 'down')), seq };
    }
    case 'PromoteHome':
      return { type: 'PromoteHome', bucket: bucket(c['bucket']), from: region(c['from'], voters, 'from'), to: region(c['to'], voters, 'to'), epoch: epoch(c['epoch']), at: at(c['at']) };
    case 'BeginSwitchover':
    case 'CompleteSwitchover':
      return { type: c['type'], bucket: bucket(c['bucket']), to: region(c['to'], voters, 'to'), epoch: epoch(c['epoch']), at: at(c['at']) };
    case 'CancelSwitchover':
      return { type: 'CancelSwitchover', bucket: bucket(c['bucket']), epoch: epoch(c['epoch']) };
    case 'ClaimDrill':
      return { type: 'ClaimDrill', id: drillId(c['id']), region: region(c['region'], voters, 'region'), by: text(c['by'], 'by'), at: at(c['at']), until: at(c['until']) };
    case 'ReleaseDrill':
      return { type: 'ReleaseDrill', id: drillId(c['id']) };
    default:
      throw invalid(`unknown control command ${String(c['type'])}`);
  }
}
