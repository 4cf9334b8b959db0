import type { Heartbeat } from '@cairn/protocol';
import type { InstanceStatus } from './phi-accrual.detector';

/** One instance as the failure detector sees it: its verdict and its last heartbeat. */
export interface InstanceView {
  readonly region: string;
  readonly service: string;
  readonly instance: string;
  readonly status: InstanceStatus;
  readonly phi: number;
  readonly lastHeartbeatAt: string | null;
  readonly heartbeat: Heartbeat | null;
}
