import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { MetadataErrorCodes, ROOT_ACCESS_KEY_OWNER } from '@cairn/protocol';
import { SERVICE_CONFIG } from '@cairn/service-kit';
import { CairnError } from '@cairn/protocol';
import type { MetadataConfig } from '../metadata.config';
import { AccessKeyCommandsHandler } from './access-key-commands.handler';

const ROOT_KEY_RETRY_MS = 1_000;

/**
 * Creates the root access key from CAIRN_ROOT_ACCESS_KEY / CAIRN_ROOT_SECRET_KEY on start, once:
 * the key's own subject decides (a second start, or a second instance, finds it and stops). Runs
 * in the background and retries while NATS is away, so the service boots without it.
 */
@Injectable()
export class RootKeyBootstrap implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('RootKeyBootstrap');
  private stopped = false;
  /** Settles when the root key exists (or none is configured); tests await it. */
  done: Promise<'created' | 'existed' | 'not-configured'> = Promise.resolve('not-configured');

  constructor(
    private readonly accessKeys: AccessKeyCommandsHandler,
    @Inject(SERVICE_CONFIG) private readonly config: MetadataConfig,
  ) {}

  onApplicationBootstrap(): void {
    const accessKeyId = this.config.CAIRN_ROOT_ACCESS_KEY;
    const secret = this.config.CAIRN_ROOT_SECRET_KEY;
    if (!accessKeyId || !secret) return;
    this.done = this.ensure(accessKeyId, secret);
    this.done.catch(() => undefined);
  }

  onApplicationShutdown(): void {
    this.stopped = true;
  }

  private async ensure(accessKeyId: string, secret: string): Promise<'created' | 'existed'> {
    for (;;) {
      try {
        await this.accessKeys.createWith(accessKeyId, secret, ROOT_ACCESS_KEY_OWNER);
        this.logger.log(`created root access key ${accessKeyId}`);
        return 'created';
      } catch (error) {
        if (error instanceof CairnError && error.code === MetadataErrorCodes.AccessKeyAlreadyExists) return 'existed';
        if (this.stopped) throw error;
        this.logger.warn(`cannot create the root access key yet (${String(error)}); retrying`);
        await new Promise((resolve) => setTimeout(resolve, ROOT_KEY_RETRY_MS).unref());
      }
    }
  }
}
