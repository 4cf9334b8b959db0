import { BucketCorsError, CORS_MAX_RULES, bucketCorsProblem, validateCorsConfiguration, type CorsConfiguration, type CorsRule } from './bucket-cors.config';
import { CORS_VARY, corsActualHeaders, corsPreflightHeaders, corsWildcardMatch, matchCorsRule, parseCorsRequestHeaders } from './bucket-cors.match';

const rule = (r: Partial<CorsRule>): CorsRule => ({ allowedMethods: ['GET'], allowedOrigins: ['*'], allowedHeaders: [], exposeHeaders: [], ...r });

describe('CORS configuration validation (S3 codes and messages)', () => {
  it('takes a valid configuration and returns it typed', () => {
    const config = { rules: [{ id: 'web', allowedMethods: ['PUT', 'GET'], allowedOrigins: ['https://*.example.com'], allowedHeaders: ['x-amz-*'], exposeHeaders: ['ETag'], maxAgeSeconds: 3000 }] };
    expect(validateCorsConfiguration(config)).toEqual(config);
    expect(bucketCorsProblem(config)).toBeNull();
  });

  it.each<[string, unknown, string, string]>([
    ['no rules', { rules: [] }, 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema'],
    ['too many rules', { rules: Array.from({ length: CORS_MAX_RULES + 1 }, () => rule({})) }, 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema'],
    ['a rule without AllowedMethod', { rules: [rule({ allowedMethods: [] })] }, 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema'],
    ['a rule without AllowedOrigin', { rules: [rule({ allowedOrigins: [] })] }, 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema'],
    ['a negative MaxAgeSeconds', { rules: [rule({ maxAgeSeconds: -1 })] }, 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema'],
    ['an unsupported method', { rules: [rule({ allowedMethods: ['PATCH' as 'GET'] })] }, 'InvalidRequest', 'Found unsupported HTTP method in CORS config. Unsupported method is PATCH'],
    ['an origin with two wildcards', { rules: [rule({ allowedOrigins: ['http://*.*.com'] })] }, 'InvalidRequest', 'AllowedOrigin "http://*.*.com" can not have more than one wildcard.'],
    ['a header with two wildcards', { rules: [rule({ allowedHeaders: ['x-*-*'] })] }, 'InvalidRequest', 'AllowedHeader "x-*-*" can not have more than one wildcard.'],
    ['an ExposeHeader wildcard', { rules: [rule({ exposeHeaders: ['x-amz-*'] })] }, 'InvalidRequest', 'ExposeHeader "x-amz-*" contains wildcard. We currently do not support wildcard for ExposeHeader.'],
    ['not an object', 'rules', 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema'],
  ])('refuses %s', (_, config, code, message) => {
    expect(bucketCorsProblem(config)).toEqual({ code, message });
    expect(() => validateCorsConfiguration(config)).toThrow(BucketCorsError);
  });

  it('takes exactly 100 rules', () => {
    expect(bucketCorsProblem({ rules: Array.from({ length: CORS_MAX_RULES }, () => rule({})) })).toBeNull();
  });
});

describe('CORS wildcard matching', () => {
  it.each([
    ['*', 'https://a.example', true],
    ['https://*.example.com', 'https://www.example.com', true],
    ['https://*.example.com', 'https://example.com', false],
    ['https://*.example.com', 'http://www.example.com', false],
    ['http://localhost:8080', 'http://localhost:8080', true],
    ['http://localhost:8080', 'http://localhost:8081', false],
    ['http://localhost:*', 'http://localhost:1234', true],
    ['x-amz-*', 'x-amz-date', true],
  ])('%s ~ %s → %s', (pattern, value, expected) => expect(corsWildcardMatch(pattern, value)).toBe(expected));
});

describe('matching a request to the first rule that applies', () => {
  const config: CorsConfiguration = {
    rules: [
      rule({ id: 'app', allowedOrigins: ['https://app.example.com'], allowedMethods: ['PUT', 'POST', 'DELETE'], allowedHeaders: ['*'], exposeHeaders: ['ETag', 'x-amz-request-id'], maxAgeSeconds: 600 }),
      rule({ id: 'sub', allowedOrigins: ['https://*.example.com'], allowedMethods: ['GET', 'HEAD'], allowedHeaders: ['Content-Type', 'x-amz-*'] }),
      rule({ id: 'any', allowedOrigins: ['*'], allowedMethods: ['GET'] }),
    ],
  };
  it.each<[string, { origin: string; method: string; requestHeaders?: readonly string[] }, string | undefined]>([
    ['PUT from the app', { origin: 'https://app.example.com', method: 'PUT', requestHeaders: ['content-type', 'x-custom'] }, 'app'],
    ['GET from the app falls to the subdomain rule', { origin: 'https://app.example.com', method: 'GET' }, 'sub'],
    ['GET with allowed headers (any case)', { origin: 'https://www.example.com', method: 'GET', requestHeaders: ['content-type', 'x-amz-date'] }, 'sub'],
    ['GET with a header the subdomain rule lacks falls to *… which allows none', { origin: 'https://www.example.com', method: 'GET', requestHeaders: ['x-other'] }, undefined],
    ['GET from elsewhere', { origin: 'https://evil.test', method: 'GET' }, 'any'],
    ['PUT from elsewhere', { origin: 'https://evil.test', method: 'PUT' }, undefined],
    ['HEAD from elsewhere', { origin: 'https://evil.test', method: 'HEAD' }, undefined],
    ['origin is case-sensitive', { origin: 'https://APP.example.com', method: 'PUT' }, undefined],
  ])('%s', (_, request, id) => expect(matchCorsRule(config, request)?.id).toBe(id));

  it('answers a preflight with the origin, the rule methods, the requested headers, exposed headers, max age and Vary', () => {
    const request = { origin: 'https://app.example.com', method: 'PUT', requestHeaders: parseCorsRequestHeaders('Content-Type, X-Custom') };
    const matched = matchCorsRule(config, request);
    expect(matched && corsPreflightHeaders(matched, request)).toEqual({
      'Access-Control-Allow-Origin': 'https://app.example.com',
      'Access-Control-Allow-Credentials': 'true',
      'Access-Control-Allow-Methods': 'PUT, POST, DELETE',
      'Access-Control-Allow-Headers': 'content-type, x-custom',
      'Access-Control-Expose-Headers': 'ETag, x-amz-request-id',
      'Access-Control-Max-Age': '600',
      Vary: CORS_VARY,
    });
  });

  it('answers `*` without credentials when the rule allows every origin', () => {
    const request = { origin: 'https://evil.test', method: 'GET' };
    const matched = matchCorsRule(config, request);
    expect(matched && corsActualHeaders(matched, request)).toEqual({ 'Access-Control-Allow-Origin': '*', 'Access-Control-Allow-Methods': 'GET', Vary: CORS_VARY });
  });

  it('parses Access-Control-Request-Headers', () => {
    expect(parseCorsRequestHeaders(' A, b ,,C')).toEqual(['a', 'b', 'c']);
    expect(parseCorsRequestHeaders(undefined)).toEqual([]);
  });
});
