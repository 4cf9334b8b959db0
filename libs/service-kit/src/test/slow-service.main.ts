// A minimal service for the graceful-shutdown test: one endpoint that takes a while to answer.
import { Controller, Get } from '@nestjs/common';
import { Access, BaseServiceConfig, runService, ServiceKitModule } from '../index';

@Access('public')
@Controller('slow')
class SlowController {
  @Get()
  async slow() {
    await new Promise((r) => setTimeout(r, 1_000));
    return { finished: true };
  }
}

runService({
  service: 'slow',
  description: 'test service',
  configClass: BaseServiceConfig,
  defaultPort: 0,
  module: (config, identity) => ({
    module: class SlowAppModule {},
    imports: [ServiceKitModule.forRoot({ identity, config })],
    controllers: [SlowController],
  }),
});
