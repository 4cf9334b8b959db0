import type { EventEnvelope } from '@cairn/protocol';

/**
 * A projection applies events, in stream order, to a read model. The shell commits the sequence
 * it reached together with the rows it changed, so replays neither skip nor double-apply.
 */
export interface Projection<Tx> {
  readonly name: string;
  /** The event types this projection reads; others are skipped (their sequence still counts). */
  readonly handles: readonly string[];
  apply(tx: Tx, event: EventEnvelope, sequence: number): Promise<void>;
  /** Applies a batch in stream order, with the same result as `apply` on each event; set-based where it can. */
  applyAll?(tx: Tx, events: readonly { readonly envelope: EventEnvelope; readonly sequence: number }[]): Promise<void>;
}
