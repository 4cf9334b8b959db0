import { Writable } from 'node:stream';
import { createLogger } from './logger';
import { isSecretName, REDACTED, redactLogLine, redactUrl, secretConfigValues } from './redaction';

describe('log redaction', () => {
  it('knows secrets by name: config variables, credential headers and fields, not fencing tokens or token ids', () => {
    for (const name of ['CAIRN_CLUSTER_SECRET', 'CAIRN_NATS_PASSWORD', 'CAIRN_NATS_TOKEN', 'CAIRN_ROOT_SECRET_KEY', 'authorization', 'Authorization', 'cookie', 'set-cookie', 'x-amz-security-token', 'Cairn-Auth', 'password', 'secretKey', 'secretAccessKey', 'token', 'accessToken', 'session_token']) {
      expect([name, isSecretName(name)]).toEqual([name, true]);
    }
    for (const name of ['CAIRN_CLUSTER_SECRET_FILE', 'CAIRN_NATS_CREDS_FILE', 'CAIRN_NATS_URL', 'fencingToken', 'x-cairn-fencing-token', 'tokenId', 'x-cairn-nonce', 'url', 'msg']) {
      expect([name, isSecretName(name)]).toEqual([name, false]);
    }
  });

  it('masks fields named like secrets at any depth, and leaves the rest of the line', () => {
    const line = JSON.stringify({ level: 30, config: { CAIRN_NATS_PASSWORD: 'pw "quoted"', CAIRN_REGION: 'r1' }, req: { headers: { authorization: 'x', 'x-cairn-fencing-token': '17' } }, msg: 'hi' });
    expect(JSON.parse(redactLogLine(line))).toEqual({ level: 30, config: { CAIRN_NATS_PASSWORD: REDACTED, CAIRN_REGION: 'r1' }, req: { headers: { authorization: REDACTED, 'x-cairn-fencing-token': '17' } }, msg: 'hi' });
  });

  it('masks secrets by shape inside any text', () => {
    const cases: [string, string][] = [
      ['postgres://cairn:s3cret@db:5432/cairn', `postgres://cairn:${REDACTED}@db:5432/cairn`],
      ['rediss://:s3cret@redis:6380', `rediss://:${REDACTED}@redis:6380`],
      ['nats://tok3n@nats:4222', `nats://${REDACTED}@nats:4222`],
      ['postgres://postgres@db/cairn', 'postgres://postgres@db/cairn'],
      ['Bearer cairn-op.v1.eyJhIjoxfQ.bWFj', `Bearer ${REDACTED}`],
      ['token cairn-op.v1.eyJhIjoxfQ.bWFj given', `token cairn-op.v1.${REDACTED} given`],
      ['Cairn-HMAC-SHA256 Caller=access/1, Signature=abcdef0123', `Cairn-HMAC-SHA256 Caller=access/1, Signature=${REDACTED}`],
      ['/b/k?X-Amz-Signature=abc&X-Amz-Security-Token=xyz&x=1', `/b/k?X-Amz-Signature=${REDACTED}&X-Amz-Security-Token=${REDACTED}&x=1`],
    ];
    for (const [text, masked] of cases) expect(JSON.parse(redactLogLine(JSON.stringify({ msg: text })))).toEqual({ msg: masked });
  });

  it('masks known secret values wherever they occur, also JSON-escaped', () => {
    const secret = 'a-very-"secret"-value';
    expect(redactLogLine(JSON.stringify({ msg: `leaked ${secret} here` }), [secret])).toBe(JSON.stringify({ msg: `leaked ${REDACTED} here` }));
    expect(secretConfigValues({ CAIRN_CLUSTER_SECRET: 'x'.repeat(32), CAIRN_NATS_PASSWORD: 'short', CAIRN_REGION: 'region-1' })).toEqual(['x'.repeat(32)]);
  });

  it('masks secret query parameters of a logged URL', () => {
    expect(redactUrl('/bucket/key?X-Amz-Credential=AKIA%2F20250101&X-Amz-Signature=deadbeef&token=t&partNumber=1')).toBe(
      `/bucket/key?X-Amz-Credential=AKIA%2F20250101&X-Amz-Signature=${REDACTED}&token=${REDACTED}&partNumber=1`,
    );
    expect(redactUrl('/plain/path')).toBe('/plain/path');
  });

  it('createLogger writes every line through the redaction', () => {
    let written = '';
    const sink = new Writable({
      write(chunk, _encoding, done) {
        written += String(chunk);
        done();
      },
    });
    const logger = createLogger({ service: 's', instance: 's-1', region: 'r', level: 'info', secrets: ['the-cluster-secret-value'] }, sink);
    logger.info({ CAIRN_CLUSTER_SECRET: 'the-cluster-secret-value', headers: { cookie: 'c=1' } }, 'secret is the-cluster-secret-value, url nats://u:p4ss@h:4222');
    expect(written).not.toContain('the-cluster-secret-value');
    expect(written).not.toContain('c=1');
    expect(written).not.toContain('p4ss');
    expect(JSON.parse(written)).toMatchObject({ service: 's', msg: `secret is ${REDACTED}, url nats://u:${REDACTED}@h:4222` });
  });
});
