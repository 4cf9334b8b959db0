import type { Command } from 'commander';
import { AdminClient } from '../adapters/admin-client';
import { profilePathFor, readProfile } from '../adapters/profile-file';
import { CliError, ExitCodes, usageError } from '../domain/exit-codes';
import { resolveSettings, type CliSettings, type ProfileFile } from '../domain/settings';

/** The options every command takes (declared on the program). */
export interface GlobalOptions {
  readonly endpoint?: string;
  readonly profile?: string;
  readonly json?: boolean;
}

/** Where a command writes, and the environment it reads: the real process in main.ts. */
export interface CliIo {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

/** What an action gets: resolved settings, the admin client (made on first use) and output helpers. */
export class CommandContext {
  private client: AdminClient | null = null;
  /** Set by a command whose result is partial (e.g. `status` with a service not answering). */
  exitCode: number = ExitCodes.ok;

  constructor(
    readonly io: CliIo,
    readonly options: GlobalOptions,
    readonly settings: CliSettings,
    readonly profilePath: string,
    readonly profile: ProfileFile | null,
  ) {}

  /** mayCreateProfile: a named profile that does not exist yet is not an error (`login` writes it). */
  static create(io: CliIo, options: GlobalOptions, mayCreateProfile = false): CommandContext {
    const where = profilePathFor(options.profile ?? (io.env['CAIRN_PROFILE'] || undefined));
    const profile = readProfile(where.path, where.explicit && !mayCreateProfile);
    const settings = resolveSettings({ endpoint: options.endpoint ?? (io.env['CAIRN_ENDPOINT'] || undefined), env: io.env, profile, profilePath: profile ? where.path : null });
    return new CommandContext(io, options, settings, where.path, profile);
  }

  get json(): boolean {
    return this.options.json === true;
  }

  get admin(): AdminClient {
    this.client ??= new AdminClient(this.settings);
    return this.client;
  }

  /** Prints the JSON value with --json, the human text otherwise. */
  print(human: () => string, json: unknown): void {
    this.io.stdout.write(this.json ? `${JSON.stringify(json, null, 2)}\n` : `${human()}\n`);
  }

  line(text: string): void {
    this.io.stdout.write(`${text}\n`);
  }

  warn(text: string): void {
    this.io.stderr.write(`cairn: ${text}\n`);
  }

  async close(): Promise<void> {
    await this.client?.close();
  }
}

/** The context an action runs in, from the global options of the command it was given. */
export type Action<A extends unknown[]> = (ctx: CommandContext, ...args: A) => Promise<void>;

/** Wraps an action so it gets a context, which is closed afterwards; its exit code is kept for main. */
export function action<A extends unknown[]>(io: CliIo, fn: Action<A>, options: { readonly mayCreateProfile?: boolean } = {}): (...args: unknown[]) => Promise<void> {
  return async (...args: unknown[]) => {
    const command = args[args.length - 1] as Command;
    const ctx = CommandContext.create(io, command.optsWithGlobals<GlobalOptions>(), options.mayCreateProfile === true);
    try {
      await fn(ctx, ...(args.slice(0, -1) as A));
    } finally {
      await ctx.close();
    }
    if (ctx.exitCode !== ExitCodes.ok) throw new PartialResult(ctx.exitCode);
  };
}

/** Not an error to report: the command printed what it had and exits with this code. */
export class PartialResult extends Error {
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
  }
}

/** A whole number within bounds, or a usage error naming the argument. */
export function integerArg(name: string, text: string, min: number, max: number): number {
  if (!/^-?\d+$/.test(text.trim())) throw usageError(`${name} must be a whole number, not "${text}"`);
  const value = Number(text);
  if (value < min || value > max) throw usageError(`${name} must be between ${min} and ${max}, not ${value}`);
  return value;
}

/** Rethrows authentication errors and reports others as a problem of one part of a command. */
export function partOf<T>(result: PromiseSettledResult<T>, what: string, problems: string[]): T | null {
  if (result.status === 'fulfilled') return result.value;
  const error = result.reason;
  if (error instanceof CliError && error.exitCode === ExitCodes.auth) throw error;
  problems.push(`${what}: ${error instanceof Error ? error.message : String(error)}`);
  return null;
}
