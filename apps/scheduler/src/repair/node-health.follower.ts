import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { describeError, JetStreamNodeHealthFeed, NodeHealthView, type NodeHealth } from '@cairn/chunk-client';
import { NatsConnectionManager } from '@cairn/messaging';
import { SERVICE_IDENTITY, type ServiceIdentity } from '@cairn/service-kit';

/**
 * The storage nodes monitoring has declared down, followed on CLUSTER by every scheduler instance:
 * repair and the sweep send them nothing (no request timing out per chunk) until they recover.
 */
@Injectable()
export class NodeHealthFollower implements NodeHealth, OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('NodeHealth');
  readonly view = new NodeHealthView();
  private readonly feed: JetStreamNodeHealthFeed;

  constructor(nats: NatsConnectionManager, @Inject(SERVICE_IDENTITY) identity: ServiceIdentity) {
    this.feed = new JetStreamNodeHealthFeed(nats, this.view, {
      namespace: identity.namespace,
      region: identity.region,
      onError: (error) => this.logger.warn(`cannot follow storage node health on CLUSTER; retrying: ${describeError(error)}`),
    });
    this.view.onChange((c) => this.logger.log(`${c.nodeId} ${c.down ? 'declared down: sent nothing until it recovers' : 'recovered'}`));
  }

  isDown(nodeId: string): boolean {
    return this.view.isDown(nodeId);
  }

  /** The nodes given, those declared down last. */
  upFirst(nodeIds: readonly string[]): string[] {
    return [...nodeIds.filter((n) => !this.isDown(n)), ...nodeIds.filter((n) => this.isDown(n))];
  }

  onModuleInit(): void {
    this.feed.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.feed.stop();
  }
}
