import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import * as http from 'node:http';
import * as https from 'node:https';

/** Connections kept to the collector; exports are batches a few seconds apart, so few are needed. */
export const OTLP_MAX_SOCKETS = 4;
/** The collector's answer is read up to this size (it is only ever a small JSON object). */
const OTLP_RESPONSE_MAX_BYTES = 64 * 1024;

/**
 * Sends spans to an OTLP/HTTP collector as JSON (`POST <endpoint>/v1/traces`,
 * `content-type: application/json`), encoded by OpenTelemetry's own OTLP serializer. Written
 * here rather than taken from @opentelemetry/exporter-trace-otlp-http because that one loads
 * node:http with a dynamic import(), which fails in processes run under Jest's module sandbox
 * (the e2e tests run access in-process); the wire format is the same. A batch that fails is
 * dropped and reported once to the SDK's error handler: traces are best-effort.
 */
export class OtlpJsonTraceExporter implements SpanExporter {
  private readonly agent: http.Agent;
  private readonly inFlight = new Set<Promise<void>>();
  private stopped = false;

  constructor(
    private readonly url: URL,
    private readonly timeoutMs: number,
  ) {
    const options = { keepAlive: true, maxSockets: OTLP_MAX_SOCKETS };
    this.agent = url.protocol === 'https:' ? new https.Agent(options) : new http.Agent(options);
  }

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    if (this.stopped) {
      resultCallback({ code: ExportResultCode.FAILED, error: new Error('the exporter is shut down') });
      return;
    }
    const body = JsonTraceSerializer.serializeRequest(spans);
    if (!body) {
      resultCallback({ code: ExportResultCode.FAILED, error: new Error('spans could not be encoded as OTLP JSON') });
      return;
    }
    const sending = this.post(body).then(
      () => resultCallback({ code: ExportResultCode.SUCCESS }),
      (error: Error) => resultCallback({ code: ExportResultCode.FAILED, error }),
    );
    this.inFlight.add(sending);
    void sending.finally(() => this.inFlight.delete(sending));
  }

  async forceFlush(): Promise<void> {
    await Promise.all([...this.inFlight]);
  }

  async shutdown(): Promise<void> {
    await this.forceFlush();
    this.stopped = true;
    this.agent.destroy();
  }

  private post(body: Uint8Array): Promise<void> {
    const send = this.url.protocol === 'https:' ? https.request : http.request;
    return new Promise<void>((resolve, reject) => {
      const req = send(
        this.url,
        {
          method: 'POST',
          agent: this.agent,
          timeout: this.timeoutMs,
          headers: { 'content-type': 'application/json', 'content-length': body.byteLength },
        },
        (res) => {
          let received = 0;
          const parts: Buffer[] = [];
          res.on('data', (part: Buffer) => {
            received += part.length;
            if (received <= OTLP_RESPONSE_MAX_BYTES) parts.push(part);
          });
          res.on('error', reject);
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) resolve();
            else reject(new Error(`OTLP collector ${this.url.origin} answered HTTP ${status}: ${Buffer.concat(parts).toString('utf8').slice(0, 200)}`));
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`OTLP collector ${this.url.origin} did not answer within ${this.timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  }
}
