export { S3GatewayModule } from './s3-gateway.module';
export { S3Gateway, S3_SERVER_HEADER, S3_SOCKET_IDLE_TIMEOUT_MS } from './s3-gateway.middleware';
