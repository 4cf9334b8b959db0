import type { Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';

/**
 * How the lock-manager's own NATS responders start and stop: `start` runs once the application is
 * up and may wait for NATS; module shutdown lets a pending start see `stopSignal` and finish
 * before `stop` drops the subscriptions, so nothing subscribes after the service has stopped.
 */
export abstract class NatsResponderLifecycle implements OnApplicationBootstrap, OnModuleDestroy {
  protected abstract readonly logger: Logger;
  protected stopping = false;
  private starting: Promise<void> | undefined;
  private markStopping: () => void = () => undefined;
  /** Resolves to undefined when the module stops: race a wait for NATS against it. */
  protected readonly stopSignal = new Promise<undefined>((resolve) => (this.markStopping = () => resolve(undefined)));

  protected abstract start(): Promise<void>;
  protected abstract stop(): void;

  onApplicationBootstrap(): void {
    this.starting = this.start().catch((error) => {
      if (!this.stopping) this.logger.error(`failed to start: ${String(error)}`);
    });
  }

  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    this.markStopping();
    await this.starting;
    this.stop();
  }
}
