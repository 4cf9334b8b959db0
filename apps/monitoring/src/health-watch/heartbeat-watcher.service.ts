import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { ConcurrencyConflictError } from '@cairn/eventing';
import { LockClient, type SingletonContext, type SingletonRun } from '@cairn/lock-client';
import { NatsConnectionManager } from '@cairn/messaging';
import { InstanceHealthSchemaVersions, MESSAGE_AUTH_HEADER, subjectsFor, type Heartbeat, type InstanceHealthEvent } from '@cairn/protocol';
import {
  ClusterCredentials,
  EventClock,
  MetricsService,
  SERVICE_CONFIG,
  SERVICE_IDENTITY,
  WorkerRegistry,
  type NamedWorker,
  type ServiceIdentity,
  type WorkerStatus,
} from '@cairn/service-kit';
import { JSONCodec, type Msg, type Subscription } from 'nats';
import { Counter, Gauge } from 'prom-client';
import { InstanceHealthLog, type AnnouncedHealth } from '../adapters/instance-health.log';
import { announcementFor, failureVerdict, statusAnnounced, type FailureThresholds } from '../domain/failure-verdict';
import { originOfSubject, senderMismatch, type HeartbeatRejection } from '../domain/heartbeat-origin';
import type { InstanceView } from '../domain/instance-view';
import { PhiAccrualDetector, type InstanceStatus } from '../domain/phi-accrual.detector';
import { failureThresholdsOf, type MonitoringConfig } from '../monitoring.config';

/** An instance gone this long is dropped from the table (it was decommissioned, not failed). */
export const FORGET_AFTER_MS = 24 * 60 * 60 * 1000;
/** Instances watched at most; heartbeats from more are counted and ignored. */
export const WATCHED_INSTANCES_MAX = 10_000;
/** The lease (lock `singleton/<name>`) whose holder alone appends health events. */
export const FAILURE_DETECTOR_LEASE = 'monitoring-failure-detector';
/** A leader that dies is replaced within about this (plus one check). */
export const LEADER_LEASE_TTL_MS = 6_000;
/** A rejected heartbeat is logged at most once per subject and reason in this window (they are all counted). */
export const REJECTION_LOG_WINDOW_MS = 60_000;
const REJECTION_LOG_REMEMBERED_MAX = 1_000;
const codec = JSONCodec<Heartbeat>();

export type { InstanceView };

interface Watched {
  readonly region: string;
  readonly service: string;
  readonly instance: string;
  readonly subject: string;
  readonly detector: PhiAccrualDetector;
  last: Heartbeat | null;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

/**
 * Failure detection (docs/architecture.md §6). Every monitoring instance listens to the region's
 * heartbeats, keeps only those signed by the instance they claim to come from, and runs a
 * phi-accrual detector per instance within the configured silences (FailureThresholds). One of
 * them, the holder of the `monitoring-failure-detector` lease, turns changes of verdict into
 * NodeSuspected / NodeDown / NodeRecovered on CLUSTER. On taking the lease it first reads the last
 * event of every instance from CLUSTER and announces only what differs from it; each append
 * expects its subject's last sequence, so a deposed leader that has not noticed yet cannot
 * announce a change a second time.
 */
@Injectable()
export class HeartbeatWatcher implements OnApplicationBootstrap, OnModuleDestroy, NamedWorker {
  readonly name = 'monitoring-failure-detector';
  private readonly logger = new Logger('HeartbeatWatcher');
  private readonly watched = new Map<string, Watched>();
  private readonly thresholds: FailureThresholds;
  private readonly subjects;
  private readonly heartbeatPrefix: string;
  private subscription: Subscription | undefined;
  private listeningSinceMs: number | undefined;
  private leadership: SingletonRun | undefined;
  /** While leading: the last verdict CLUSTER holds per watched key. */
  private announced: Map<string, AnnouncedHealth> | null = null;
  private announcements = 0;
  private lastError?: { message: string; at: string };
  private lastRunAt?: string;
  private readonly rejectionsLoggedAt = new Map<string, number>();
  private rejected!: Counter<'reason'>;
  private eventsAppended!: Counter<'type'>;
  private stopped = false;

  constructor(
    private readonly nats: NatsConnectionManager,
    private readonly log: InstanceHealthLog,
    private readonly clock: EventClock,
    private readonly metrics: MetricsService,
    private readonly workers: WorkerRegistry,
    private readonly credentials: ClusterCredentials,
    private readonly locks: LockClient,
    @Inject(SERVICE_IDENTITY) private readonly identity: ServiceIdentity,
    @Inject(SERVICE_CONFIG) private readonly config: MonitoringConfig,
  ) {
    this.thresholds = failureThresholdsOf(config);
    this.subjects = subjectsFor(identity.namespace);
    this.heartbeatPrefix = this.subjects.prefix('hb.');
  }

  get leading(): boolean {
    return this.announced !== null;
  }

  onApplicationBootstrap(): void {
    const registers = [this.metrics.registry];
    const instances = () => this.instances();
    new Gauge({
      name: 'cairn_monitoring_instances',
      help: 'Service instances by the failure detector’s status',
      labelNames: ['status'],
      registers,
      collect(this: Gauge<'status'>) {
        const all = instances();
        for (const status of ['up', 'suspected', 'down'] as const) this.set({ status }, all.filter((i) => i.status === status).length);
      },
    });
    const leading = () => this.leading;
    new Gauge({
      name: 'cairn_monitoring_leader',
      help: '1 while this instance holds the failure detector’s lease and announces health changes',
      registers,
      collect(this: Gauge) {
        this.set(leading() ? 1 : 0);
      },
    });
    this.rejected = new Counter({ name: 'cairn_monitoring_heartbeats_rejected_total', help: 'Heartbeats dropped: unsigned, badly signed, sent for another instance, unreadable', labelNames: ['reason'], registers });
    this.eventsAppended = new Counter({ name: 'cairn_monitoring_health_events_total', help: 'NodeSuspected / NodeDown / NodeRecovered appended by this instance', labelNames: ['type'], registers });
    this.workers.register(this);
    void this.nats.connection().then(
      (nc) => {
        if (this.stopped) return;
        this.subscription = nc.subscribe(this.subjects.heartbeatWildcard(), { callback: (err, msg) => err || this.onMessage(msg, Date.now()) });
        this.listeningSinceMs = Date.now();
        this.leadership = this.locks.runAsSingleton(FAILURE_DETECTOR_LEASE, (context) => this.lead(context), {
          ttlMs: LEADER_LEASE_TTL_MS,
          onError: (error) => this.failed(`leadership: ${String(error)}`),
        });
      },
      () => undefined,
    );
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    this.subscription?.unsubscribe();
    await this.leadership?.stop();
    this.workers.unregister(this.name);
  }

  status(): WorkerStatus {
    return {
      name: this.name,
      state: this.stopped ? 'stopped' : this.leading ? 'running' : 'idle',
      runs: this.announcements,
      ...(this.lastRunAt ? { lastRunAt: this.lastRunAt } : {}),
      ...(this.lastError ? { lastError: this.lastError.message, lastErrorAt: this.lastError.at } : {}),
      progress: { doneItems: this.announcements, totalItems: this.watched.size, detail: this.leading ? 'leader: announces health changes' : 'standby: watches heartbeats' },
    };
  }

  instances(nowMs = Date.now()): InstanceView[] {
    return [...this.watched.values()]
      .map((w) => {
        const phi = w.detector.phi(nowMs);
        return {
          region: w.region,
          service: w.service,
          instance: w.instance,
          status: this.verdictOf(w, nowMs),
          phi: Number.isFinite(phi) ? Number(phi.toFixed(2)) : phi,
          lastHeartbeatAt: w.detector.lastHeartbeatMs === undefined ? null : new Date(w.detector.lastHeartbeatMs).toISOString(),
          heartbeat: w.last,
        };
      })
      .sort((a, b) => `${a.service}/${a.instance}`.localeCompare(`${b.service}/${b.instance}`));
  }

  /** Takes a heartbeat only if it is signed by the instance its subject names (and its body agrees). */
  private onMessage(msg: Msg, nowMs: number): void {
    const origin = originOfSubject(msg.subject, this.heartbeatPrefix);
    if (!origin) return this.reject(msg.subject, 'unreadable', 'not a heartbeat subject', nowMs);
    const verdict = this.credentials.verify(msg.headers?.get(MESSAGE_AUTH_HEADER) || undefined, msg.subject, msg.data);
    if (!verdict.ok) return this.reject(msg.subject, msg.headers?.get(MESSAGE_AUTH_HEADER) ? 'bad-signature' : 'unsigned', verdict.reason, nowMs);
    let heartbeat: Heartbeat;
    try {
      heartbeat = codec.decode(msg.data);
    } catch (error) {
      return this.reject(msg.subject, 'unreadable', String(error), nowMs);
    }
    const mismatch = senderMismatch(origin, verdict.caller, heartbeat);
    if (mismatch) return this.reject(msg.subject, 'wrong-sender', mismatch, nowMs);
    this.onHeartbeat(heartbeat, nowMs);
  }

  private reject(subject: string, reason: HeartbeatRejection, detail: string, nowMs: number): void {
    this.rejected.inc({ reason });
    const key = `${subject} ${reason}`;
    const last = this.rejectionsLoggedAt.get(key);
    if (last !== undefined && nowMs - last < REJECTION_LOG_WINDOW_MS) return;
    this.rejectionsLoggedAt.delete(key);
    this.rejectionsLoggedAt.set(key, nowMs);
    if (this.rejectionsLoggedAt.size > REJECTION_LOG_REMEMBERED_MAX) this.rejectionsLoggedAt.delete(this.rejectionsLoggedAt.keys().next().value as string);
    this.logger.warn(`heartbeat on ${subject} dropped (${reason}): ${detail}`);
  }

  private onHeartbeat(heartbeat: Heartbeat, nowMs: number): void {
    const w = this.watch(heartbeat.region, heartbeat.service, heartbeat.instance);
    if (!w) return;
    w.detector.heartbeat(Math.max(nowMs, w.detector.lastHeartbeatMs ?? nowMs));
    w.last = heartbeat;
  }

  private watch(region: string, service: string, instance: string): Watched | undefined {
    const key = `${region}/${service}/${instance}`;
    let w = this.watched.get(key);
    if (!w) {
      if (this.watched.size >= WATCHED_INSTANCES_MAX) return undefined;
      w = { region, service, instance, subject: this.subjects.instanceHealth(region, service, instance), detector: new PhiAccrualDetector(), last: null };
      this.watched.set(key, w);
    }
    return w;
  }

  /** Silence counts from the last heartbeat, or for an instance not heard since this process started listening, from then. */
  private verdictOf(w: Watched, nowMs: number): InstanceStatus {
    const heardMs = w.detector.lastHeartbeatMs ?? this.listeningSinceMs ?? nowMs;
    return failureVerdict(w.detector.phi(nowMs), nowMs - heardMs, this.thresholds);
  }

  /** While holding the lease: re-derive what CLUSTER says, then announce each change of verdict until the lease is lost. */
  private async lead({ signal }: SingletonContext): Promise<void> {
    const announced = new Map<string, AnnouncedHealth>();
    for (const a of await this.log.latest(this.identity.namespace)) {
      announced.set(`${a.region}/${a.service}/${a.instance}`, a);
      // An instance CLUSTER knows but this process has not heard: judged by its silence since we listen.
      this.watch(a.region, a.service, a.instance);
    }
    if (signal.aborted) return;
    this.announced = announced;
    this.logger.log(`leading the failure detector (${announced.size} instances on record)`);
    try {
      while (!signal.aborted) {
        await this.announceChanges(Date.now(), signal);
        await sleep(this.config.CAIRN_FAILURE_CHECK_INTERVAL_MS, signal);
      }
    } finally {
      this.announced = null;
      this.logger.log('no longer leading the failure detector');
    }
  }

  private async announceChanges(nowMs: number, signal: AbortSignal): Promise<void> {
    const announced = this.announced;
    if (!announced) return;
    for (const [key, w] of this.watched) {
      if (signal.aborted) return;
      const heardMs = w.detector.lastHeartbeatMs ?? this.listeningSinceMs ?? nowMs;
      if (nowMs - heardMs > FORGET_AFTER_MS) {
        this.watched.delete(key);
        continue;
      }
      const verdict = this.verdictOf(w, nowMs);
      // Only a heartbeat heard by this process can clear a verdict on record.
      if (verdict === 'up' && w.detector.lastHeartbeatMs === undefined) continue;
      const on = announced.get(key);
      const type = announcementFor(on?.status, verdict);
      if (!type) continue;
      await this.announce(w, type, on?.sequence ?? 0, nowMs, announced, key);
    }
    this.lastRunAt = new Date(nowMs).toISOString();
  }

  private async announce(w: Watched, type: InstanceHealthEvent['type'], expectedSequence: number, nowMs: number, announced: Map<string, AnnouncedHealth>, key: string): Promise<void> {
    const phi = w.detector.phi(nowMs);
    const event = {
      type,
      data: {
        region: w.region,
        service: w.service,
        instance: w.instance,
        phi: Number.isFinite(phi) ? phi : Number.MAX_VALUE,
        lastHeartbeatAt: w.detector.lastHeartbeatMs === undefined ? null : new Date(w.detector.lastHeartbeatMs).toISOString(),
        decidedBy: this.identity.instance,
      },
    } as InstanceHealthEvent;
    const envelope = this.clock.envelope(event, `${w.service}/${w.instance}`, InstanceHealthSchemaVersions[type]);
    try {
      const sequence = await this.log.append(w.subject, envelope, expectedSequence);
      announced.set(key, { subject: w.subject, region: w.region, service: w.service, instance: w.instance, status: statusAnnounced(type), sequence });
      this.announcements++;
      this.eventsAppended.inc({ type });
      const silenceMs = nowMs - (w.detector.lastHeartbeatMs ?? this.listeningSinceMs ?? nowMs);
      this.logger.log(`${w.service}/${w.instance} is ${statusAnnounced(type)} (phi ${phi.toFixed(1)}, silent ${silenceMs} ms): ${type}`);
    } catch (error) {
      if (error instanceof ConcurrencyConflictError) {
        // Someone else (a leader that has not noticed it was deposed) announced meanwhile: take what is on record.
        const latest = await this.log.latestOf(w.subject).catch(() => null);
        if (latest) announced.set(key, latest);
        else announced.delete(key);
        return;
      }
      this.failed(`could not record ${type} for ${w.service}/${w.instance}: ${String(error)}`);
    }
  }

  private failed(message: string): void {
    this.lastError = { message, at: new Date().toISOString() };
    this.logger.warn(message);
  }
}
