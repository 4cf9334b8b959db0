import { execFile } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { dropNamespace, startServiceProcess, testNamespace, type ServiceProcess } from '@cairn/testing';

export const CLI_E2E_ROOT_ACCESS_KEY = 'CAIRNCLIROOTACCESSKY';
export const CLI_E2E_ROOT_SECRET_KEY = 'cairn-cli-e2e-root-secret-key-000000000';
const LAUNCHER = path.resolve(__dirname, '..', '..', '..', '..', 'tools', 'cli', 'cairn.js');
/** One CLI run that takes longer than this has hung. */
const CLI_RUN_TIMEOUT_MS = 90_000;

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  json<T = Record<string, unknown>>(): T;
}

/**
 * A whole region as processes for the CLI's end-to-end test (apps may not import each other, so
 * this starts them itself): metadata, one lock-manager replica, storage nodes, the S3 gateway,
 * the scheduler and monitoring, in one test namespace.
 */
export class CliTestRegion {
  readonly namespace = testNamespace();
  readonly processes = new Map<string, ServiceProcess>();
  dataRoot = '';
  s3!: S3Client;

  constructor(private readonly schedulerEnv: Record<string, string>) {}

  url(name: string): string {
    const p = this.processes.get(name);
    if (!p) throw new Error(`no ${name}`);
    return p.url;
  }

  async start(storageNodes: number): Promise<void> {
    this.dataRoot = await fsp.mkdtemp(path.join(os.tmpdir(), 'cairn-cli-e2e-'));
    const base = { CAIRN_NS: this.namespace };
    const start = async (name: string, app: string, env: Record<string, string>) => {
      this.processes.set(name, await startServiceProcess({ app, env: { ...base, CAIRN_INSTANCE: name, ...env } }));
    };
    await Promise.all([
      start('metadata-1', 'metadata', { CAIRN_ROOT_ACCESS_KEY: CLI_E2E_ROOT_ACCESS_KEY, CAIRN_ROOT_SECRET_KEY: CLI_E2E_ROOT_SECRET_KEY }),
      start('lock-manager-1', 'lock-manager', { CAIRN_DATA_DIR: path.join(this.dataRoot, 'lock-manager-1') }),
      start('monitoring-1', 'monitoring', {}),
    ]);
    await Promise.all(
      Array.from({ length: storageNodes }, (_, i) => {
        const nodeId = `storage-${i + 1}`;
        return start(nodeId, 'storage', { CAIRN_DATA_DIR: path.join(this.dataRoot, nodeId), CAIRN_STORAGE_ZONE: 'zone-1', CAIRN_STORAGE_HOST: nodeId });
      }),
    );
    await Promise.all([start('access-1', 'access', { CAIRN_CHUNK_SIZE_BYTES: String(1024 * 1024) }), start('scheduler-1', 'scheduler', this.schedulerEnv)]);
    this.s3 = new S3Client({
      endpoint: this.url('access-1'),
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: CLI_E2E_ROOT_ACCESS_KEY, secretAccessKey: CLI_E2E_ROOT_SECRET_KEY },
      maxAttempts: 3,
    });
  }

  /** A profile as `npm start` writes it, pointing at this region. */
  profile(operatorToken: string | undefined): Record<string, unknown> {
    return {
      region: 'region-1',
      endpoints: { metadata: this.url('metadata-1'), access: this.url('access-1'), scheduler: this.url('scheduler-1'), monitoring: this.url('monitoring-1') },
      ...(operatorToken ? { operatorToken } : {}),
      s3: { endpoint: this.url('access-1'), accessKeyId: CLI_E2E_ROOT_ACCESS_KEY, secretAccessKey: CLI_E2E_ROOT_SECRET_KEY },
    };
  }

  async writeProfile(name: string, profile: Record<string, unknown>): Promise<string> {
    const file = path.join(this.dataRoot, name);
    await fsp.writeFile(file, JSON.stringify(profile, null, 2), { mode: 0o600 });
    return file;
  }

  async stop(): Promise<void> {
    this.s3?.destroy();
    await Promise.all([...this.processes.values()].map((p) => p.stop()));
    await dropNamespace(this.namespace);
    if (this.dataRoot) await fsp.rm(this.dataRoot, { recursive: true, force: true });
  }
}

/**
 * Runs `cairn` as an operator would: a child process with real argv and exit code, from an
 * environment with no CAIRN_* settings of the test runner's except the ones given.
 */
export function runCairn(args: readonly string[], env: Record<string, string> = {}): Promise<CliRun> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CAIRN_') && !k.startsWith('AWS_')));
  return new Promise((resolve) => {
    execFile(process.execPath, [LAUNCHER, ...args], { env: { ...clean, ...env }, timeout: CLI_RUN_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({
        code,
        stdout,
        stderr,
        json<T>() {
          try {
            return JSON.parse(stdout) as T;
          } catch {
            throw new Error(`cairn ${args.join(' ')} printed no JSON (exit ${code}):\n${stdout}\n${stderr}`);
          }
        },
      });
    });
  });
}
