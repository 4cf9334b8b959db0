import { keyIdOf } from './object-key-id';

describe('keyIdOf', () => {
  it('is the lowercase hex SHA-256 of the key’s UTF-8 bytes', () => {
    expect(keyIdOf('a/b.txt')).toBe('5550000d3b1cf1ff9d8ad3380f759f84f8abda4b5032ee735bdfef6766d6919f');
    expect(keyIdOf('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('hashes UTF-8, not UTF-16 code units', () => {
    expect(keyIdOf('é')).toBe(keyIdOf('\u00e9'));
    expect(keyIdOf('é')).not.toBe(keyIdOf('e\u0301'));
    expect(keyIdOf('日本/ключ')).toMatch(/^[0-9a-f]{64}$/);
  });
});
