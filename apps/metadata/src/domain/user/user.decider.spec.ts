import { deciderSpecification } from '@cairn/eventing';
import { canonicalIdOf } from '@cairn/protocol';
import { hasCode, MetadataError } from '../shared/metadata.errors';
import { userDecider } from './user.decider';

const spec = deciderSpecification(userDecider);
const at = '2026-01-01T00:00:00.000Z';
const created = { type: 'UserCreated', data: { user: 'alice', canonicalId: canonicalIdOf('alice'), displayName: 'Alice Liddell', email: 'alice@example.com', createdAt: at } } as const;

describe('user decider', () => {
  it('creates a user with its derived canonical id, the email lower-cased', () =>
    spec.given([]).when({ type: 'CreateUser', user: 'alice', displayName: 'Alice Liddell', email: 'Alice@Example.com', createdAt: at }).then([created]));

  it('defaults the display name to the user name', () =>
    spec.given([]).when({ type: 'CreateUser', user: 'bob', createdAt: at }).then([{ type: 'UserCreated', data: { user: 'bob', canonicalId: canonicalIdOf('bob'), displayName: 'bob', createdAt: at } }]));

  it('refuses a second creation', () =>
    spec.given([created]).when({ type: 'CreateUser', user: 'alice', createdAt: at }).thenThrows(MetadataError, hasCode('USER_ALREADY_EXISTS')));

  it.each([
    ['a bad name', { user: 'Alice' }],
    ['a look-alike of root', { user: 'r00t' }],
    ['a bad email', { email: 'not-an-email' }],
    ['a display name with a control character', { displayName: 'a\u0000b' }],
  ])('refuses %s with InvalidArgument', (_, over) =>
    spec.given([]).when({ type: 'CreateUser', user: 'carol', createdAt: at, ...over }).thenThrows(MetadataError, hasCode('InvalidArgument')));
});
