import { decideAccess, evaluateBucketPolicy, type PolicyContextValue, type PolicyPrincipal } from './bucket-policy.evaluator';
import { BucketPolicyError, bucketPolicyProblem, parseBucketPolicy } from './bucket-policy.parser';
import { isBucketPolicyPublic } from './bucket-policy.public';
import { cidrContains, parseCidr, parseIpAddress, wildcardMatch } from './policy-match';

const BUCKET = 'amzn-s3-demo-bucket';
const ANONYMOUS: PolicyPrincipal = { kind: 'anonymous' };
const alice: PolicyPrincipal = { kind: 'account', account: 'alice', canonicalId: 'alice' };
const bob: PolicyPrincipal = { kind: 'account', account: 'bob', canonicalId: 'bob' };

const obj = (key: string) => `arn:aws:s3:::${BUCKET}/${key}`;
const bucketArn = `arn:aws:s3:::${BUCKET}`;

interface Case {
  readonly name: string;
  readonly principal?: PolicyPrincipal;
  readonly action: string;
  readonly resource: string;
  readonly context?: Record<string, PolicyContextValue>;
  readonly expect: 'Allow' | 'Deny' | 'None';
}

function table(policy: object, cases: readonly Case[]): void {
  const parsed = parseBucketPolicy(JSON.stringify(policy), BUCKET);
  it.each(cases.map((c) => [c.name, c] as const))('%s', (_, c) => {
    const verdict = evaluateBucketPolicy(parsed, { principal: c.principal ?? ANONYMOUS, action: c.action, resource: c.resource, context: c.context ?? {} });
    expect(verdict.effect).toBe(c.expect);
  });
}

describe('bucket policy evaluation: AWS documented examples', () => {
  describe('public read of a prefix (Principal *, s3:GetObject on bucket/public/*)', () => {
    table(
      {
        Version: '2012-10-17',
        Statement: [{ Sid: 'PublicRead', Effect: 'Allow', Principal: '*', Action: ['s3:GetObject', 's3:GetObjectVersion'], Resource: [obj('public/*')] }],
      },
      [
        { name: 'anonymous GET in the prefix', action: 's3:GetObject', resource: obj('public/a.txt'), expect: 'Allow' },
        { name: 'anonymous GET deeper in the prefix', action: 's3:GetObject', resource: obj('public/x/y/z'), expect: 'Allow' },
        { name: 'anonymous GET outside', action: 's3:GetObject', resource: obj('private/a.txt'), expect: 'None' },
        { name: 'prefix is case-sensitive', action: 's3:GetObject', resource: obj('Public/a.txt'), expect: 'None' },
        { name: 'action is case-insensitive', action: 's3:getobject', resource: obj('public/a.txt'), expect: 'Allow' },
        { name: 'anonymous PUT refused', action: 's3:PutObject', resource: obj('public/a.txt'), expect: 'None' },
        { name: 'signed account also allowed', principal: bob, action: 's3:GetObject', resource: obj('public/a.txt'), expect: 'Allow' },
      ],
    );
  });

  describe('deny requests not over TLS (aws:SecureTransport false)', () => {
    table(
      {
        Version: '2012-10-17',
        Statement: [
          { Sid: 'AllowAll', Effect: 'Allow', Principal: '*', Action: 's3:*', Resource: [bucketArn, obj('*')] },
          { Sid: 'RestrictToTLSRequestsOnly', Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: [bucketArn, obj('*')], Condition: { Bool: { 'aws:SecureTransport': 'false' } } },
        ],
      },
      [
        { name: 'http denied', action: 's3:GetObject', resource: obj('k'), context: { 'aws:SecureTransport': 'false' }, expect: 'Deny' },
        { name: 'https allowed', action: 's3:GetObject', resource: obj('k'), context: { 'aws:SecureTransport': 'true' }, expect: 'Allow' },
        { name: 'Bool compares case-insensitively', action: 's3:ListBucket', resource: bucketArn, context: { 'aws:securetransport': 'FALSE' }, expect: 'Deny' },
        { name: 'missing key: Bool is false, Deny does not apply', action: 's3:GetObject', resource: obj('k'), expect: 'Allow' },
      ],
    );
  });

  describe('IP allow list (IpAddress / NotIpAddress, IPv4 and IPv6)', () => {
    table(
      {
        Version: '2012-10-17',
        Id: 'S3PolicyId1',
        Statement: [
          {
            Sid: 'IPAllow',
            Effect: 'Deny',
            Principal: '*',
            Action: 's3:*',
            Resource: [obj('*'), bucketArn],
            Condition: { NotIpAddress: { 'aws:SourceIp': ['192.0.2.0/24', '2001:DB8:1234:5678::/64'] } },
          },
          { Sid: 'Read', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: obj('*') },
        ],
      },
      [
        { name: 'inside the v4 block', action: 's3:GetObject', resource: obj('k'), context: { 'aws:SourceIp': '192.0.2.17' }, expect: 'Allow' },
        { name: 'outside the v4 block', action: 's3:GetObject', resource: obj('k'), context: { 'aws:SourceIp': '198.51.100.1' }, expect: 'Deny' },
        { name: 'inside the v6 block', action: 's3:GetObject', resource: obj('k'), context: { 'aws:SourceIp': '2001:db8:1234:5678::9' }, expect: 'Allow' },
        { name: 'outside the v6 block', action: 's3:GetObject', resource: obj('k'), context: { 'aws:SourceIp': '2001:db8:1234:5679::9' }, expect: 'Deny' },
        { name: 'no source ip: negated operator holds, denied', action: 's3:GetObject', resource: obj('k'), expect: 'Deny' },
      ],
    );
  });

  describe('deny everyone except one principal (NotPrincipal)', () => {
    table(
      {
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: { AWS: ['alice', 'arn:aws:iam::bob:root'] }, Action: 's3:*', Resource: obj('*') },
          { Effect: 'Deny', NotPrincipal: { AWS: 'arn:aws:iam::alice:root' }, Action: 's3:DeleteObject', Resource: obj('*') },
        ],
      },
      [
        { name: 'alice may delete', principal: alice, action: 's3:DeleteObject', resource: obj('k'), expect: 'Allow' },
        { name: 'bob may read', principal: bob, action: 's3:GetObject', resource: obj('k'), expect: 'Allow' },
        { name: 'bob may not delete', principal: bob, action: 's3:DeleteObject', resource: obj('k'), expect: 'Deny' },
        { name: 'anonymous may not delete', action: 's3:DeleteObject', resource: obj('k'), expect: 'Deny' },
        { name: 'anonymous gets nothing else', action: 's3:GetObject', resource: obj('k'), expect: 'None' },
      ],
    );
  });

  describe('NotAction and NotResource', () => {
    table(
      {
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: { AWS: 'bob' }, NotAction: ['s3:Delete*', 's3:Put*'], Resource: [bucketArn, obj('*')] },
          { Effect: 'Deny', Principal: { AWS: 'bob' }, Action: 's3:GetObject', NotResource: obj('shared/*') },
        ],
      },
      [
        { name: 'bob lists (not a Delete*/Put*)', principal: bob, action: 's3:ListBucket', resource: bucketArn, expect: 'Allow' },
        { name: 'bob cannot put', principal: bob, action: 's3:PutObject', resource: obj('shared/a'), expect: 'None' },
        { name: 'bob cannot delete a version', principal: bob, action: 's3:DeleteObjectVersion', resource: obj('shared/a'), expect: 'None' },
        { name: 'bob reads in shared/', principal: bob, action: 's3:GetObject', resource: obj('shared/a'), expect: 'Allow' },
        { name: 'bob denied reading outside shared/', principal: bob, action: 's3:GetObject', resource: obj('secret/a'), expect: 'Deny' },
        { name: 'alice is not named', principal: alice, action: 's3:ListBucket', resource: bucketArn, expect: 'None' },
      ],
    );
  });

  describe('listing restricted by s3:prefix and s3:delimiter', () => {
    table(
      {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'AllowListingOfUserFolder',
            Effect: 'Allow',
            Principal: { AWS: ['alice', 'bob'] },
            Action: 's3:ListBucket',
            Resource: bucketArn,
            Condition: { StringLike: { 's3:prefix': ['home/${aws:username}/*', 'home/${aws:username}/'] } },
          },
          { Effect: 'Allow', Principal: { AWS: 'alice' }, Action: 's3:ListBucket', Resource: bucketArn, Condition: { StringEquals: { 's3:delimiter': '/', 's3:prefix': '' } } },
          { Effect: 'Allow', Principal: { AWS: 'bob' }, Action: 's3:ListBucket', Resource: bucketArn, Condition: { NumericLessThanEquals: { 's3:max-keys': '10' } } },
        ],
      },
      [
        { name: 'alice lists her folder', principal: alice, action: 's3:ListBucket', resource: bucketArn, context: { 's3:prefix': 'home/alice/', 'aws:username': 'alice' }, expect: 'Allow' },
        { name: 'alice lists bob folder', principal: alice, action: 's3:ListBucket', resource: bucketArn, context: { 's3:prefix': 'home/bob/', 'aws:username': 'alice' }, expect: 'None' },
        { name: 'alice lists the root with delimiter (both keys AND)', principal: alice, action: 's3:ListBucket', resource: bucketArn, context: { 's3:prefix': '', 's3:delimiter': '/' }, expect: 'Allow' },
        { name: 'alice lists the root without delimiter', principal: alice, action: 's3:ListBucket', resource: bucketArn, context: { 's3:prefix': '' }, expect: 'None' },
        { name: 'bob lists with max-keys 5', principal: bob, action: 's3:ListBucket', resource: bucketArn, context: { 's3:max-keys': '5' }, expect: 'Allow' },
        { name: 'bob lists with max-keys 1000', principal: bob, action: 's3:ListBucket', resource: bucketArn, context: { 's3:max-keys': '1000' }, expect: 'None' },
        { name: 'bob lists without max-keys (missing key: false)', principal: bob, action: 's3:ListBucket', resource: bucketArn, expect: 'None' },
      ],
    );
  });

  describe('canned ACL required on upload (s3:x-amz-acl), IfExists', () => {
    table(
      {
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: { AWS: 'bob' }, Action: 's3:PutObject', Resource: obj('*'), Condition: { StringEquals: { 's3:x-amz-acl': 'bucket-owner-full-control' } } },
          { Effect: 'Deny', Principal: '*', Action: 's3:PutObject', Resource: obj('*'), Condition: { StringNotEqualsIfExists: { 's3:x-amz-acl': ['private', 'bucket-owner-full-control'] } } },
        ],
      },
      [
        { name: 'with the ACL', principal: bob, action: 's3:PutObject', resource: obj('k'), context: { 's3:x-amz-acl': 'bucket-owner-full-control' }, expect: 'Allow' },
        { name: 'without the ACL: the IfExists Deny holds (missing key is true)', principal: bob, action: 's3:PutObject', resource: obj('k'), expect: 'Deny' },
        { name: 'public-read ACL denied', principal: bob, action: 's3:PutObject', resource: obj('k'), context: { 's3:x-amz-acl': 'public-read' }, expect: 'Deny' },
      ],
    );
  });

  describe('Referer restriction (StringLike, aws:Referer)', () => {
    table(
      {
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: '*', Action: ['s3:GetObject', 's3:GetObjectVersion'], Resource: obj('*'), Condition: { StringLike: { 'aws:Referer': ['https://www.example.com/*', 'https://example.com/*'] } } },
        ],
      },
      [
        { name: 'from the site', action: 's3:GetObject', resource: obj('img.png'), context: { 'aws:Referer': 'https://www.example.com/page' }, expect: 'Allow' },
        { name: 'from elsewhere', action: 's3:GetObject', resource: obj('img.png'), context: { 'aws:Referer': 'https://evil.example/' }, expect: 'None' },
        { name: 'no referer', action: 's3:GetObject', resource: obj('img.png'), expect: 'None' },
      ],
    );
  });

  describe('dates, Null and set qualifiers', () => {
    table(
      {
        Version: '2012-10-17',
        Statement: [
          { Sid: 'Window', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: obj('window/*'), Condition: { DateGreaterThan: { 'aws:CurrentTime': '2026-01-01T00:00:00Z' }, DateLessThan: { 'aws:CurrentTime': '2027-01-01T00:00:00Z' } } },
          { Sid: 'NeedsUA', Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: obj('ua/*'), Condition: { Null: { 'aws:UserAgent': 'true' } } },
          { Sid: 'UA', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: obj('ua/*') },
          { Sid: 'AnyTag', Effect: 'Allow', Principal: { AWS: 'bob' }, Action: 's3:PutObjectTagging', Resource: obj('*'), Condition: { 'ForAnyValue:StringEquals': { 's3:RequestObjectTagKeys': ['team', 'project'] } } },
          { Sid: 'OnlyTags', Effect: 'Deny', Principal: { AWS: 'bob' }, Action: 's3:PutObjectTagging', Resource: obj('*'), Condition: { 'ForAllValues:StringNotLike': { 's3:RequestObjectTagKeys': ['team', 'project', 'cost*'] } } },
        ],
      },
      [
        { name: 'inside the window', action: 's3:GetObject', resource: obj('window/a'), context: { 'aws:CurrentTime': '2026-12-02T08:00:00Z' }, expect: 'Allow' },
        { name: 'epoch seconds are dates too', action: 's3:GetObject', resource: obj('window/a'), context: { 'aws:CurrentTime': '1790000000' }, expect: 'Allow' },
        { name: 'after the window', action: 's3:GetObject', resource: obj('window/a'), context: { 'aws:CurrentTime': '2027-06-01T00:00:00Z' }, expect: 'None' },
        { name: 'Null true: key missing denies', action: 's3:GetObject', resource: obj('ua/a'), expect: 'Deny' },
        { name: 'Null true: key present passes', action: 's3:GetObject', resource: obj('ua/a'), context: { 'aws:UserAgent': 'curl' }, expect: 'Allow' },
        { name: 'ForAnyValue: one listed tag', principal: bob, action: 's3:PutObjectTagging', resource: obj('a'), context: { 's3:RequestObjectTagKeys': ['team', 'other'] }, expect: 'Allow' },
        { name: 'ForAnyValue: no listed tag', principal: bob, action: 's3:PutObjectTagging', resource: obj('a'), context: { 's3:RequestObjectTagKeys': ['costcenter'] }, expect: 'None' },
        { name: 'missing key: ForAnyValue Allow is false, ForAllValues Deny is true', principal: bob, action: 's3:PutObjectTagging', resource: obj('a'), expect: 'Deny' },
        { name: 'ForAllValues StringNotLike: every tag unlisted denies', principal: bob, action: 's3:PutObjectTagging', resource: obj('a'), context: { 's3:RequestObjectTagKeys': ['x', 'y'] }, expect: 'Deny' },
      ],
    );
  });

  describe('IgnoreCase, NumericNotEquals, StringNotLike with a missing key', () => {
    table(
      {
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: obj('*'), Condition: { StringEqualsIgnoreCase: { 'aws:UserAgent': 'MyApp/1.0' } } },
          { Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: obj('*'), Condition: { StringNotLike: { 'aws:Referer': 'https://ok.example/*' } } },
        ],
      },
      [
        { name: 'case-insensitive agent, good referer', action: 's3:GetObject', resource: obj('a'), context: { 'aws:UserAgent': 'myapp/1.0', 'aws:Referer': 'https://ok.example/x' }, expect: 'Allow' },
        { name: 'missing referer: StringNotLike holds, denied', action: 's3:GetObject', resource: obj('a'), context: { 'aws:UserAgent': 'myapp/1.0' }, expect: 'Deny' },
      ],
    );
  });

  describe('version 2008-10-17 keeps ${…} literal', () => {
    table(
      { Version: '2008-10-17', Statement: { Effect: 'Allow', Principal: { AWS: '*' }, Action: 's3:GetObject', Resource: obj('${aws:username}/*') } },
      [
        { name: 'literal match', action: 's3:GetObject', resource: obj('${aws:username}/a'), expect: 'Allow' },
        { name: 'no substitution', action: 's3:GetObject', resource: obj('alice/a'), context: { 'aws:username': 'alice' }, expect: 'None' },
      ],
    );
  });
});

describe('decideAccess: policy together with ownership', () => {
  const policy = parseBucketPolicy(
    JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Principal: { AWS: 'bob' }, Action: 's3:GetObject', Resource: obj('*') },
        { Effect: 'Deny', Principal: '*', Action: ['s3:DeleteObject', 's3:GetBucketPolicy', 's3:PutBucketPolicy'], Resource: [obj('*'), bucketArn] },
      ],
    }),
    BUCKET,
  );
  const req = (principal: PolicyPrincipal, action: string, resource = obj('k')) => ({ principal, action, resource, context: {} });
  it.each([
    ['root is always allowed', { callerIsRoot: true, callerOwnsBucket: false, request: req(bob, 's3:DeleteObject') }, true, 'root'],
    ['owner allowed without a statement', { callerIsRoot: false, callerOwnsBucket: true, request: req(alice, 's3:PutObject') }, true, 'owner'],
    ['owner denied by an explicit Deny', { callerIsRoot: false, callerOwnsBucket: true, request: req(alice, 's3:DeleteObject') }, false, 'explicit-deny'],
    ['owner keeps GetBucketPolicy', { callerIsRoot: false, callerOwnsBucket: true, request: req(alice, 's3:GetBucketPolicy', bucketArn) }, true, 'owner-policy-management'],
    ['owner keeps PutBucketPolicy', { callerIsRoot: false, callerOwnsBucket: true, request: req(alice, 's3:PutBucketPolicy', bucketArn) }, true, 'owner-policy-management'],
    ['non-owner denied policy management', { callerIsRoot: false, callerOwnsBucket: false, request: req(bob, 's3:GetBucketPolicy', bucketArn) }, false, 'explicit-deny'],
    ['non-owner allowed by the policy', { callerIsRoot: false, callerOwnsBucket: false, request: req(bob, 's3:GetObject') }, true, 'policy-allow'],
    ['non-owner not named', { callerIsRoot: false, callerOwnsBucket: false, request: req(ANONYMOUS, 's3:GetObject') }, false, 'implicit-deny'],
    ['no policy: non-owner refused', { callerIsRoot: false, callerOwnsBucket: false, request: req(bob, 's3:GetObject'), noPolicy: true }, false, 'implicit-deny'],
  ] as const)('%s', (_, input, allowed, reason) => {
    const decision = decideAccess({ ...input, policy: 'noPolicy' in input ? undefined : policy });
    expect(decision).toMatchObject({ allowed, reason });
  });
});

describe('parseBucketPolicy refuses what S3 refuses (MalformedPolicy)', () => {
  const ok = { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: obj('*') };
  const doc = (statement: object, extra: object = {}) => JSON.stringify({ Version: '2012-10-17', Statement: [statement], ...extra });
  it.each([
    ['not JSON', 'nope', "Policies must be valid JSON and the first byte must be '{'"],
    ['an array', '[]', "Policies must be valid JSON and the first byte must be '{'"],
    ['no Statement', JSON.stringify({ Version: '2012-10-17' }), 'Missing required field Statement'],
    ['bad Version', JSON.stringify({ Version: '2020-01-01', Statement: ok }), 'The policy must contain a valid version string'],
    ['unknown top field', doc(ok, { Foo: 1 }), 'Unknown field Foo'],
    ['no Effect', doc({ ...ok, Effect: undefined }), 'Missing required field Effect'],
    ['bad Effect', doc({ ...ok, Effect: 'Allo' }), 'Invalid effect: Allo'],
    ['no Principal', doc({ ...ok, Principal: undefined }), 'Missing required field Principal'],
    ['bad Principal type', doc({ ...ok, Principal: { Users: 'x' } }), 'Invalid principal in policy'],
    ['bad account', doc({ ...ok, Principal: { AWS: 'Not An Account' } }), 'Invalid principal in policy'],
    ['no Action', doc({ ...ok, Action: undefined }), 'Missing required field Action'],
    ['unknown action', doc({ ...ok, Action: 's3:GetObjekt' }), 'Policy has invalid action'],
    ['other service', doc({ ...ok, Action: 'iam:CreateUser' }), 'Policy has invalid action'],
    ['wildcard matching nothing', doc({ ...ok, Action: 's3:Frobnicate*' }), 'Policy has invalid action'],
    ['no Resource', doc({ ...ok, Resource: undefined }), 'Missing required field Resource'],
    ['another bucket', doc({ ...ok, Resource: 'arn:aws:s3:::other-bucket/*' }), 'Policy has invalid resource'],
    ['not an S3 ARN', doc({ ...ok, Resource: 'arn:aws:sqs:::x' }), 'Policy has invalid resource'],
    ['object action on the bucket ARN only', doc({ ...ok, Resource: bucketArn }), 'Action does not apply to any resource(s) in statement'],
    ['bucket action on objects only', doc({ ...ok, Action: 's3:ListBucket' }), 'Action does not apply to any resource(s) in statement'],
    ['both Action and NotAction', doc({ ...ok, NotAction: 's3:PutObject' }), 'Statement may hold Action or NotAction, not both'],
    ['unknown condition operator', doc({ ...ok, Condition: { StringSorta: { 'aws:Referer': 'x' } } }), 'Invalid Condition type : StringSorta'],
    ['Null with IfExists', doc({ ...ok, Condition: { NullIfExists: { 'aws:Referer': 'true' } } }), 'Invalid Condition type : NullIfExists'],
    ['bad IP', doc({ ...ok, Condition: { IpAddress: { 'aws:SourceIp': '300.1.1.1/8' } } }), 'Invalid Condition value for IpAddress: aws:SourceIp: 300.1.1.1/8'],
    ['bad number', doc({ ...ok, Condition: { NumericLessThan: { 's3:max-keys': 'ten' } } }), 'Invalid Condition value for NumericLessThan: s3:max-keys: ten'],
    ['bad date', doc({ ...ok, Condition: { DateLessThan: { 'aws:CurrentTime': 'tomorrow' } } }), 'Invalid Condition value for DateLessThan: aws:CurrentTime: tomorrow'],
    ['bad condition key', doc({ ...ok, Condition: { StringEquals: { referer: 'x' } } }), 'Policy has an invalid condition key'],
    ['duplicate Sid', JSON.stringify({ Version: '2012-10-17', Statement: [{ ...ok, Sid: 'a' }, { ...ok, Sid: 'a' }] }), 'Statement IDs (SID) in a single policy must be unique.'],
    ['too large', JSON.stringify({ Version: '2012-10-17', Id: 'x'.repeat(21 * 1024), Statement: ok }), 'Policies must be no larger than 20480 bytes'],
  ])('%s', (_, text, message) => {
    expect(() => parseBucketPolicy(text, BUCKET)).toThrow(new BucketPolicyError(message));
    expect(bucketPolicyProblem(text, BUCKET)).toBe(message);
  });

  it('accepts a single statement object, wildcard buckets and a missing Version (2008-10-17)', () => {
    const parsed = parseBucketPolicy(JSON.stringify({ Statement: { ...ok, Resource: 'arn:aws:s3:::amzn-*/*' } }), BUCKET);
    expect(parsed.version).toBe('2008-10-17');
    expect(parsed.statements).toHaveLength(1);
    expect(bucketPolicyProblem(doc({ ...ok, Action: 's3:*', Resource: '*' }), BUCKET)).toBeNull();
  });
});

describe('isBucketPolicyPublic', () => {
  const pub = (statement: object) => isBucketPolicyPublic(parseBucketPolicy(JSON.stringify({ Version: '2012-10-17', Statement: statement }), BUCKET));
  const base = { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: obj('*') };
  it.each([
    ['Principal * without conditions', base, true],
    ['{"AWS": "*"}', { ...base, Principal: { AWS: '*' } }, true],
    ['a named account', { ...base, Principal: { AWS: 'bob' } }, false],
    ['a Deny', { ...base, Effect: 'Deny' }, false],
    ['pinned to a /24', { ...base, Condition: { IpAddress: { 'aws:SourceIp': '192.0.2.0/24' } } }, false],
    ['a /0 is the internet', { ...base, Condition: { IpAddress: { 'aws:SourceIp': '0.0.0.0/0' } } }, true],
    ['a Referer condition does not pin', { ...base, Condition: { StringLike: { 'aws:Referer': 'https://x/*' } } }, true],
    ['a wildcard account does not pin', { ...base, Condition: { StringLike: { 'aws:PrincipalAccount': '*' } } }, true],
    ['a fixed account pins', { ...base, Condition: { StringEquals: { 'aws:PrincipalAccount': 'alice' } } }, false],
  ])('%s', (_, statement, expected) => expect(pub(statement)).toBe(expected));
});

describe('matching primitives', () => {
  it.each([
    ['*', '', true],
    ['a*c', 'abbbc', true],
    ['a?c', 'abc', true],
    ['a?c', 'ac', false],
    ['*/public/*', 'x/public/y', true],
    ['a*b*c', 'aXbYbZc', true],
    ['a*b', 'aXbYc', false],
  ])('wildcard %s ~ %s', (p, t, expected) => expect(wildcardMatch(p, t)).toBe(expected));

  it.each([
    ['10.0.0.0/8', '10.1.2.3', true],
    ['10.0.0.0/8', '11.0.0.1', false],
    ['127.0.0.1', '127.0.0.1', true],
    ['127.0.0.1/32', '::ffff:127.0.0.1', true],
    ['::1/128', '::1', true],
    ['2001:db8::/32', '2001:db8:ffff::1', true],
    ['2001:db8::/32', '2001:db9::1', false],
  ])('cidr %s contains %s', (cidr, address, expected) => {
    const block = parseCidr(cidr);
    const ip = parseIpAddress(address);
    expect(block && ip && cidrContains(block, ip)).toBe(expected);
  });

  it.each(['1.2.3', '1.2.3.4.5', '256.0.0.1', '::1::2', '1.2.3.4/33', 'fe80::1/129', 'x'])('refuses %s', (text) => expect(parseCidr(text)).toBeUndefined());
});
