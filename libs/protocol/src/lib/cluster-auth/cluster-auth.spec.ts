import {
  ClusterKeys,
  CLUSTER_SECRET_MIN_LENGTH,
  EMPTY_SHA256,
  mintOperatorToken,
  ReplayWindow,
  sha256Hex,
  MessageSignatureVersions,
  signMessage,
  signRequest,
  UNSIGNED_PAYLOAD,
  verifyMessage,
  verifyOperatorToken,
  verifyRequestSignature,
  type HeaderValues,
} from './index';

const keys = new ClusterKeys('the-cluster-secret-for-these-unit-tests-0000');
const httpKey = keys.key('internal-http');
const NOW = 1_800_000_000_000;

function signed(method: string, pathAndQuery: string, headers: HeaderValues = {}, body?: string | 'unsigned') {
  return { method, pathAndQuery, headers: { ...headers, ...signRequest(httpKey, 'scheduler/scheduler-1', { method, pathAndQuery, headers, body }, NOW) } };
}

describe('cluster keys', () => {
  it('refuses a short secret and derives one key per purpose', () => {
    expect(() => new ClusterKeys('x'.repeat(CLUSTER_SECRET_MIN_LENGTH - 1))).toThrow(/at least 32/);
    const purposes = ['internal-http', 'internal-nats', 'operator-tokens', 'alert-webhooks'] as const;
    expect(new Set(purposes.map((p) => keys.key(p).toString('hex'))).size).toBe(purposes.length);
    expect(new ClusterKeys('the-cluster-secret-for-these-unit-tests-0000').fingerprint).toBe(keys.fingerprint);
  });
});

describe('signed internal HTTP requests', () => {
  it('verifies what was signed, naming the caller and the body hash', () => {
    const request = signed('DELETE', '/chunks/abc?x=1', { 'x-cairn-fencing-token': '7', 'x-cairn-fencing-resource': 'gc' });
    expect(verifyRequestSignature(httpKey, request, NOW)).toMatchObject({ ok: true, caller: 'scheduler/scheduler-1', contentSha256: EMPTY_SHA256 });
    expect(verifyRequestSignature(httpKey, signed('POST', '/admin/x', {}, '{"a":1}'), NOW)).toMatchObject({ ok: true, contentSha256: sha256Hex('{"a":1}') });
    expect(verifyRequestSignature(httpKey, signed('PUT', '/chunks/abc', {}, 'unsigned'), NOW)).toMatchObject({ ok: true, contentSha256: UNSIGNED_PAYLOAD });
  });

  it.each([
    ['the method', (r: ReturnType<typeof signed>) => ({ ...r, method: 'GET' })],
    ['the path', (r: ReturnType<typeof signed>) => ({ ...r, pathAndQuery: '/chunks/abd?x=1' })],
    ['the query', (r: ReturnType<typeof signed>) => ({ ...r, pathAndQuery: '/chunks/abc?x=2' })],
    ['a fencing header', (r: ReturnType<typeof signed>) => ({ ...r, headers: { ...r.headers, 'x-cairn-fencing-token': '999999' } })],
    ['an added x-cairn header', (r: ReturnType<typeof signed>) => ({ ...r, headers: { ...r.headers, 'x-cairn-unless-touched-since': '0' } })],
    ['the declared body hash', (r: ReturnType<typeof signed>) => ({ ...r, headers: { ...r.headers, 'x-cairn-content-sha256': sha256Hex('other') } })],
    ['the caller', (r: ReturnType<typeof signed>) => ({ ...r, headers: { ...r.headers, authorization: String(r.headers['authorization']).replace('scheduler/scheduler-1', 'access/access-1') } })],
    ['the time', (r: ReturnType<typeof signed>) => ({ ...r, headers: { ...r.headers, 'x-cairn-date': String(NOW + 1) } })],
  ])('refuses a request whose %s changed after signing', (_what, alter) => {
    const request = signed('DELETE', '/chunks/abc?x=1', { 'x-cairn-fencing-token': '7' });
    expect(verifyRequestSignature(httpKey, alter(request), NOW)).toMatchObject({ ok: false });
  });

  it('refuses another cluster, a stale or future time, and malformed headers', () => {
    const request = signed('GET', '/chunks');
    expect(verifyRequestSignature(new ClusterKeys('another-cluster-secret-000000000000000').key('internal-http'), request, NOW)).toMatchObject({ ok: false, reason: 'signature does not match' });
    expect(verifyRequestSignature(keys.key('internal-nats'), request, NOW)).toMatchObject({ ok: false });
    expect(verifyRequestSignature(httpKey, request, NOW + 30_001, 30_000)).toMatchObject({ ok: false, reason: expect.stringContaining('clock') });
    expect(verifyRequestSignature(httpKey, request, NOW - 30_001, 30_000)).toMatchObject({ ok: false });
    expect(verifyRequestSignature(httpKey, { ...request, headers: {} }, NOW)).toMatchObject({ ok: false, reason: 'no cluster signature' });
    for (const authorization of ['Cairn-HMAC-SHA256 Caller=x, Signature=zz', 'Cairn-HMAC-SHA256 Caller=Bad Name/x, Signature=' + 'a'.repeat(64)]) {
      expect(verifyRequestSignature(httpKey, { ...request, headers: { ...request.headers, authorization } }, NOW)).toMatchObject({ ok: false, reason: 'malformed cluster signature' });
    }
    expect(verifyRequestSignature(httpKey, { ...request, headers: { ...request.headers, 'x-cairn-nonce': 'short' } }, NOW)).toMatchObject({ ok: false });
  });
});

describe('signed NATS messages', () => {
  const natsKey = keys.key('internal-nats');
  const payload = new TextEncoder().encode('{"bucket":"b"}');

  it('verifies the subject and payload it was made for, and nothing else', () => {
    const header = signMessage(natsKey, 'access/access-1', 'rpc.metadata.putObject', payload, NOW);
    expect(verifyMessage(natsKey, header, 'rpc.metadata.putObject', payload, NOW)).toMatchObject({ ok: true, caller: 'access/access-1' });
    expect(verifyMessage(natsKey, header, 'rpc.metadata.deleteObject', payload, NOW)).toMatchObject({ ok: false });
    expect(verifyMessage(natsKey, header, 'rpc.metadata.putObject', new TextEncoder().encode('{"bucket":"c"}'), NOW)).toMatchObject({ ok: false });
    expect(verifyMessage(natsKey, header, 'rpc.metadata.putObject', payload, NOW + 60_000)).toMatchObject({ ok: false });
    expect(verifyMessage(httpKey, header, 'rpc.metadata.putObject', payload, NOW)).toMatchObject({ ok: false });
    expect(verifyMessage(natsKey, undefined, 'rpc.metadata.putObject', payload, NOW)).toMatchObject({ ok: false });
    expect(verifyMessage(natsKey, 'v1 a b c d', 'rpc.metadata.putObject', payload, NOW)).toMatchObject({ ok: false });
  });

  it('signs v2 by default and verifies v1 and v2 alike (a rolling upgrade)', () => {
    expect(signMessage(natsKey, 'access/access-1', 'rpc.x', payload, NOW)).toMatch(/^v2 access\/access-1 1800000000000 [0-9a-f]{32} [0-9a-f]{64}$/);
    for (const version of [MessageSignatureVersions.V1, MessageSignatureVersions.V2]) {
      const header = signMessage(natsKey, 'access/access-1', 'rpc.x', payload, NOW, version);
      expect(header.startsWith(`${version} `)).toBe(true);
      expect(verifyMessage(natsKey, header, 'rpc.x', payload, NOW)).toMatchObject({ ok: true, caller: 'access/access-1', version });
      expect(verifyMessage(natsKey, header, 'rpc.x', payload, NOW + 30_001, 30_000)).toMatchObject({ ok: false, reason: expect.stringContaining('clock') });
    }
    const empty = new Uint8Array(0);
    expect(verifyMessage(natsKey, signMessage(natsKey, 'access/access-1', 'rpc.x', empty, NOW), 'rpc.x', empty, NOW)).toMatchObject({ ok: true });
  });

  describe.each([MessageSignatureVersions.V1, MessageSignatureVersions.V2])('a %s signature', (version) => {
    const subject = 'rpc.metadata.putObject';
    const header = signMessage(natsKey, 'access/access-1', subject, payload, NOW, version);
    const [, caller, dateMs, nonce, mac] = header.split(' ');
    const flipped = (hex: string) => hex.slice(0, -1) + (hex.endsWith('0') ? '1' : '0');
    const tamperedPayload = Uint8Array.from(payload);
    tamperedPayload[3] ^= 1;

    it.each([
      ['the caller', `${version} storage/storage-1 ${dateMs} ${nonce} ${mac}`, subject, payload],
      ['the time', `${version} ${caller} ${Number(dateMs) + 1} ${nonce} ${mac}`, subject, payload],
      ['the nonce', `${version} ${caller} ${dateMs} ${flipped(nonce)} ${mac}`, subject, payload],
      ['the mac', `${version} ${caller} ${dateMs} ${nonce} ${flipped(mac)}`, subject, payload],
      ['the version', `${version === 'v1' ? 'v2' : 'v1'} ${caller} ${dateMs} ${nonce} ${mac}`, subject, payload],
      ['the subject', header, 'rpc.metadata.putObjecT', payload],
      ['a payload byte', header, subject, tamperedPayload],
      ['the payload length', header, subject, new Uint8Array([...payload, 0])],
    ])('fails when %s changed', (_what, alteredHeader, alteredSubject, alteredPayload) => {
      expect(verifyMessage(natsKey, alteredHeader, alteredSubject, alteredPayload, NOW)).toMatchObject({ ok: false });
    });
  });

  it('v2: moving bytes between the subject and the payload does not keep the signature', () => {
    const encoder = new TextEncoder();
    const header = signMessage(natsKey, 'access/access-1', 'rpc.a', encoder.encode('b{}'), NOW, MessageSignatureVersions.V2);
    expect(verifyMessage(natsKey, header, 'rpc.a', encoder.encode('b{}'), NOW)).toMatchObject({ ok: true });
    expect(verifyMessage(natsKey, header, 'rpc.ab', encoder.encode('{}'), NOW)).toMatchObject({ ok: false });
    expect(verifyMessage(natsKey, header, 'rpc.', encoder.encode('ab{}'), NOW)).toMatchObject({ ok: false });
    // A subject that carries what would follow it in the string to sign.
    const [, , dateMs, nonce] = header.split(' ');
    const smuggled = `rpc.a\naccess/access-1\n${dateMs}\n${nonce}\n3\nb{}`;
    expect(verifyMessage(natsKey, header, smuggled, new Uint8Array(0), NOW)).toMatchObject({ ok: false });
  });

  it('refuses to sign for a caller that is not <service>/<instance>', () => {
    expect(() => signMessage(natsKey, 'access/a\nb', 'rpc.x', payload, NOW)).toThrow(/caller/);
  });
});

describe('the replay window', () => {
  it('takes a nonce once, remembers it at least one window, and forgets it after two', () => {
    let now = 0;
    const window = new ReplayWindow(1_000, () => now);
    expect(window.firstUse('a')).toBe(true);
    expect(window.firstUse('a')).toBe(false);
    now = 999;
    expect(window.firstUse('a')).toBe(false);
    now = 1_500;
    expect(window.firstUse('a')).toBe(false);
    expect(window.firstUse('b')).toBe(true);
    now = 3_100;
    expect(window.firstUse('a')).toBe(true);
    now = 10_000;
    expect(window.firstUse('x')).toBe(true);
    expect(window.size).toBe(1);
  });
});

describe('operator tokens', () => {
  const tokenKey = keys.key('operator-tokens');

  it('carry a role and an expiry, and verify under their own key only', () => {
    const { token, claims } = mintOperatorToken(tokenKey, { role: 'read-only', label: 'grafana', ttlMs: 60_000 }, NOW);
    expect(claims).toMatchObject({ role: 'read-only', label: 'grafana', expiresAtMs: NOW + 60_000 });
    expect(verifyOperatorToken(tokenKey, token, NOW + 59_999)).toEqual({ ok: true, claims });
    expect(verifyOperatorToken(tokenKey, token, NOW + 60_000)).toMatchObject({ ok: false, reason: 'operator token expired' });
    expect(verifyOperatorToken(keys.key('internal-http'), token, NOW)).toMatchObject({ ok: false });
  });

  it('refuses a token whose claims were edited, or which is not one', () => {
    const { token } = mintOperatorToken(tokenKey, { role: 'read-only' }, NOW);
    const [prefix, payload, mac] = [token.slice(0, 12), token.slice(12).split('.')[0], token.slice(12).split('.')[1]];
    const elevated = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), role: 'admin' })).toString('base64url');
    expect(verifyOperatorToken(tokenKey, `${prefix}${elevated}.${mac}`, NOW)).toMatchObject({ ok: false });
    for (const bad of ['', 'Bearer x', 'cairn-op.v1.', 'cairn-op.v1.a.b.c', `${token}x`]) expect(verifyOperatorToken(tokenKey, bad, NOW).ok).toBe(false);
  });

  it('bounds the lifetime', () => {
    const { claims } = mintOperatorToken(tokenKey, { role: 'admin', ttlMs: 10 * 365 * 24 * 3600 * 1000 }, NOW);
    expect(claims.expiresAtMs - NOW).toBeLessThanOrEqual(366 * 24 * 3600 * 1000);
  });
});
