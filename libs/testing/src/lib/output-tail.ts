/** Lines a service's tail keeps. */
export const OUTPUT_TAIL_MAX_LINES = 200;
/** Characters a service's tail keeps, whatever the line count. */
export const OUTPUT_TAIL_MAX_CHARS = 64 * 1024;

/**
 * The last lines a process wrote, bounded by lines and by characters, so a service that runs for an
 * hour keeps what it said just before it stopped and nothing more. Each stream gets its own writer
 * so a line half-written on stdout is not spliced with one from stderr.
 */
export class OutputTail {
  private readonly lines: string[] = [];
  private keptChars = 0;
  private readonly unfinishedLines: { text: string }[] = [];

  constructor(
    private readonly maxLines = OUTPUT_TAIL_MAX_LINES,
    private readonly maxChars = OUTPUT_TAIL_MAX_CHARS,
  ) {}

  /** A sink for one stream's chunks. */
  writer(): (data: Buffer | string) => void {
    const unfinished = { text: '' };
    this.unfinishedLines.push(unfinished);
    return (data) => {
      const pieces = (unfinished.text + String(data)).split('\n');
      unfinished.text = pieces.pop()!.slice(-this.maxChars);
      for (const line of pieces) this.keep(line);
    };
  }

  /** The kept lines, oldest first, then any line a stream has not finished. */
  text(): string {
    const pending = this.unfinishedLines.map((u) => u.text).filter((t) => t.length > 0);
    return [...this.lines, ...pending].map((line) => line + '\n').join('');
  }

  private keep(line: string): void {
    const kept = line.length > this.maxChars ? line.slice(-this.maxChars) : line;
    this.lines.push(kept);
    this.keptChars += kept.length + 1;
    while (this.lines.length > this.maxLines || (this.keptChars > this.maxChars && this.lines.length > 1)) {
      this.keptChars -= this.lines.shift()!.length + 1;
    }
  }
}
