import { OWNER_NAME_MAX_CHARS, isValidOwnerName, ownerNameProblem } from './owner-name';
import { ROOT_ACCESS_KEY_OWNER } from './metadata.views';

describe('owner names', () => {
  it.each(['alice', 'a', 'ops-team', 'svc_backup', 'team.media', 'a1', '42', 'rooter', 'roots', 'groot', 'a'.repeat(OWNER_NAME_MAX_CHARS)])('accepts %j', (name) => {
    expect(ownerNameProblem(name)).toBeNull();
    expect(isValidOwnerName(name)).toBe(true);
  });

  it('accepts the bootstrapped root owner itself (who may hold it is the caller’s rule)', () => {
    expect(ownerNameProblem(ROOT_ACCESS_KEY_OWNER)).toBeNull();
  });

  it.each([
    ['', /1 to 64 characters/],
    ['a'.repeat(OWNER_NAME_MAX_CHARS + 1), /1 to 64 characters/],
    ['Alice', /lowercase letters/],
    ['al ice', /lowercase letters/],
    ['alice\n', /lowercase letters/],
    ['al\u0000ice', /lowercase letters/],
    ['al\u200bice', /lowercase letters/],
    ['\u0430lice', /lowercase letters/], // Cyrillic а
    ['alice@example.com', /lowercase letters/],
    ['-alice', /start and end/],
    ['alice.', /start and end/],
    ['_alice', /start and end/],
  ])('refuses %j', (name, reason) => {
    expect(ownerNameProblem(name)).toMatch(reason);
    expect(isValidOwnerName(name)).toBe(false);
  });

  it.each(['Root', 'ROOT', ' root', 'root ', 'root\u0000', '\troot', 'root\n', 'r00t', 'ro0t', 'r.o.o.t', 'ro-ot', 'ro_ot', 'Ro0T', '\u0000R0OT '])(
    'refuses %j as a look-alike of the root owner',
    (name) => {
      expect(ownerNameProblem(name)).toMatch(/look-alike of the reserved owner "root"/);
    },
  );
});
