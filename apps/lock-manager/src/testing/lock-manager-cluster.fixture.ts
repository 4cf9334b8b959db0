import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { RaftView } from '../locks/lock-raft-node.service';

export const REPO_ROOT = path.resolve(__dirname, '../../../..');
export const CLUSTER_START_TIMEOUT_MS = 60_000;
const POLL_MS = 20;
const HEALTH_TIMEOUT_MS = 1_000;
/** The tail of a process's output kept for failure messages. */
const OUTPUT_TAIL_CHARS = 20_000;

interface ClusterNode {
  readonly instance: string;
  readonly dataDir: string;
  child?: ChildProcess;
  url?: string;
  output: string;
}

/**
 * Three (or n) real lock-manager processes over the real NATS, in a private namespace, each with
 * its own data directory that outlives a kill, so a restarted node recovers from its own log.
 */
export class LockManagerCluster {
  private readonly nodes = new Map<string, ClusterNode>();
  readonly dataRoot = mkdtempSync(path.join(tmpdir(), 'cairn-locks-'));

  constructor(
    readonly namespace: string,
    readonly instances: readonly string[] = ['lock-manager-1', 'lock-manager-2', 'lock-manager-3'],
    private readonly env: Record<string, string> = {},
  ) {
    for (const instance of instances) this.nodes.set(instance, { instance, dataDir: path.join(this.dataRoot, instance), output: '' });
  }

  async start(): Promise<void> {
    await Promise.all(this.instances.map((i) => this.startNode(i)));
  }

  async startNode(instance: string): Promise<string> {
    const node = this.node(instance);
    node.output = '';
    // CAIRN_CPU_PROFILE_DIR=<dir>: each process writes a V8 CPU profile there when it exits (as `npm start` does).
    const profileDir = process.env['CAIRN_CPU_PROFILE_DIR'];
    const profiling = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(profileDir)}`] : [];
    const child = spawn(process.execPath, [...profiling, '-r', '@swc-node/register', 'apps/lock-manager/src/main.ts'], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        CAIRN_NS: this.namespace,
        CAIRN_INSTANCE: instance,
        CAIRN_HTTP_PORT: '0',
        CAIRN_HTTP_HOST: '127.0.0.1',
        CAIRN_DATA_DIR: node.dataDir,
        CAIRN_RAFT_PEERS: this.instances.join(','),
        CAIRN_LOG_LEVEL: 'info',
        ...this.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    node.child = child;
    node.url = undefined;
    const keep = (d: Buffer) => (node.output = (node.output + d.toString()).slice(-OUTPUT_TAIL_CHARS));
    child.stderr!.on('data', keep);
    child.stdout!.on('data', keep);
    node.url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${instance} did not start within ${CLUSTER_START_TIMEOUT_MS} ms: ${node.output}`)), CLUSTER_START_TIMEOUT_MS);
      child.stdout!.on('data', () => {
        const m = /"url":"(http:\/\/[^"]+)"/.exec(node.output);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${instance} exited early (${code}): ${node.output}`));
      });
    });
    return node.url;
  }

  kill(instance: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.node(instance).child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    return exited;
  }

  url(instance: string): string {
    const url = this.node(instance).url;
    if (!url) throw new Error(`${instance} is not running`);
    return url;
  }

  /** The process ids of the running nodes (a benchmark reads their CPU time from /proc). */
  pids(): number[] {
    return this.instances.map((i) => this.node(i).child?.pid).filter((pid): pid is number => pid !== undefined);
  }

  output(instance: string): string {
    return this.node(instance).output;
  }

  /** Raft state from /health (info, not a check), or undefined if the process does not answer. */
  async raft(instance: string): Promise<RaftView | undefined> {
    const node = this.node(instance);
    if (!node.url || node.child?.exitCode !== null || node.child?.signalCode !== null) return undefined;
    try {
      const res = await fetch(`${node.url}/health`, { signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS) });
      return ((await res.json()) as { raft: RaftView }).raft;
    } catch {
      return undefined;
    }
  }

  /** The leader every running node in `among` agrees on, waiting up to `timeoutMs`. */
  async leader(among: readonly string[] = this.instances, timeoutMs = 15_000, notIn: readonly string[] = []): Promise<{ leader: string; term: number }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const views = await Promise.all(among.map((i) => this.raft(i)));
      const leader = views.find((v) => v?.role === 'leader');
      if (leader && views.every((v) => v?.leader && v.term === leader.term)) {
        const name = among[views.indexOf(leader)];
        if (!notIn.includes(name)) return { leader: name, term: leader.term };
      }
      if (Date.now() > deadline) throw new Error(`no agreed leader among ${among.join(', ')} within ${timeoutMs} ms: ${JSON.stringify(views)}`);
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.instances.map((i) => this.kill(i, 'SIGTERM')));
    rmSync(this.dataRoot, { recursive: true, force: true });
  }

  private node(instance: string): ClusterNode {
    const node = this.nodes.get(instance);
    if (!node) throw new Error(`no such instance ${instance}`);
    return node;
  }
}
