import type { Message } from '@cairn/consensus';

/** Moves Raft messages between the nodes of one group. Delivery is best-effort: Raft retries. */
export interface RaftTransport {
  send(messages: readonly Message[]): void;
  onMessage(handler: (message: Message) => void): void;
  close(): Promise<void>;
}

export const RAFT_TRANSPORT = Symbol('RAFT_TRANSPORT');
