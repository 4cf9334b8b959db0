/**
 * What the `cairn` CLI's exit status means, so scripts can tell a refused request from a typo, a
 * bad credential or a region that does not answer.
 */
export const ExitCodes = {
  /** Done. */
  ok: 0,
  /** The server refused or failed the operation (or a watched job failed / timed out). */
  failed: 1,
  /** The command line was wrong (unknown command or option, missing or malformed argument). */
  usage: 2,
  /** No credential, or the credential was refused (401) or not allowed (403). */
  auth: 3,
  /** The endpoint could not be reached (connection refused, unknown host, TLS failure, timeout). */
  unreachable: 4,
} as const;

export type ExitCode = (typeof ExitCodes)[keyof typeof ExitCodes];

/** An error the CLI reports in one line and exits with. */
export class CliError extends Error {
  constructor(
    readonly exitCode: ExitCode,
    message: string,
    /** The server's error code, when it gave one (e.g. NODE_DRAIN_UNDER_REPLICATES). */
    readonly code?: string,
    /** The HTTP status of the reply that failed, if there was one. */
    readonly httpStatus?: number,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export function usageError(message: string): CliError {
  return new CliError(ExitCodes.usage, message);
}

/** The exit code for an HTTP status from an admin API. */
export function exitCodeForStatus(status: number): ExitCode {
  if (status === 401 || status === 403) return ExitCodes.auth;
  return ExitCodes.failed;
}
