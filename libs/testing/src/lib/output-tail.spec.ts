import { OutputTail } from './output-tail';

describe('OutputTail', () => {
  it('keeps the last lines up to its line bound', () => {
    const tail = new OutputTail(3, 1_000);
    const write = tail.writer();
    write('a\nb\nc\nd\ne\n');
    expect(tail.text()).toBe('c\nd\ne\n');
  });

  it('keeps the last characters up to its character bound, cutting an overlong line from the front', () => {
    const tail = new OutputTail(100, 10);
    const write = tail.writer();
    write('1234\n5678\nabcd\n');
    expect(tail.text()).toBe('5678\nabcd\n');
    write(`${'x'.repeat(30)}END\n`);
    expect(tail.text()).toBe('xxxxxxxEND\n');
  });

  it('does not splice a line one stream left unfinished with another stream’s line', () => {
    const tail = new OutputTail();
    const stdout = tail.writer();
    const stderr = tail.writer();
    stdout('{"msg":"half');
    stderr('boom\n');
    stdout(' done"}\n');
    stderr('still unfinished');
    expect(tail.text()).toBe('boom\n{"msg":"half done"}\nstill unfinished\n');
  });
});
