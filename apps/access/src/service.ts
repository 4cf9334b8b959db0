import { ServiceKitModule, type ServiceDefinition } from '@cairn/service-kit';
import { AccessConfig } from './access.config';
import { S3Gateway, S3GatewayModule } from './s3-gateway';
import { answerContinueAfterAuthorization } from './s3-gateway/s3-gateway.middleware';

export const ACCESS_DEFAULT_PORT = 9000;

export const AccessService: ServiceDefinition<AccessConfig> = {
  service: 'access',
  description: 'S3 API gateway: SigV4, chunking, placement, the read and write paths',
  configClass: AccessConfig,
  defaultPort: ACCESS_DEFAULT_PORT,
  rawBodies: true,
  logSuccessfulRequests: (config) => config.CAIRN_S3_LOG_REQUESTS,
  refuseTooManyHeaders: (app) => {
    const gateway = app.get(S3Gateway);
    return (req, res) => gateway.refuseTooManyHeaders(req, res);
  },
  answerUnparsableRequest: (app) => {
    const gateway = app.get(S3Gateway);
    return (refusal) => gateway.unparsableRequestAnswer(refusal);
  },
  module: (config, identity) => ({
    module: class AccessAppModule {},
    imports: [ServiceKitModule.forRoot({ identity, config }), S3GatewayModule.forRoot(config, identity)],
  }),
  // Every S3 request enters here, past service-kit's middleware and without Express or Nest's
  // router: bodies stream untouched, errors are S3 XML. /health, /metrics and /docs go to Nest.
  configure: (app) => {
    answerContinueAfterAuthorization(app.getHttpServer());
  },
  directRequests: (app) => {
    const gateway = app.get(S3Gateway);
    return { claims: (req) => gateway.claims(req), serve: (req, res) => gateway.answer(req, res) };
  },
};
