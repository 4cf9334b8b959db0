import { Command, CommanderError } from 'commander';
import { registerAuth } from './commands/auth.command';
import { registerBackups } from './commands/backup.command';
import { registerBucketsAndKeys } from './commands/buckets-keys.command';
import { registerDrills } from './commands/drill.command';
import { registerEncryption } from './commands/encryption.command';
import { PartialResult, type CliIo } from './commands/context';
import { registerJobs } from './commands/jobs.command';
import { registerLifecycle } from './commands/lifecycle.command';
import { registerLinks } from './commands/links.command';
import { registerMaintenance } from './commands/maintenance.command';
import { registerNodes } from './commands/nodes.command';
import { registerPlan } from './commands/plan.command';
import { registerRegions } from './commands/region.command';
import { registerReplication } from './commands/replication.command';
import { registerStatus } from './commands/status.command';
import { registerStorage } from './commands/storage.command';
import { registerUsers } from './commands/users.command';
import { CliError, ExitCodes } from './domain/exit-codes';

const HELP_FOOTER = `
Where it connects: --endpoint names a region of the profile or gives the region's S3 address
(host[:port] or URL; the admin APIs are at +100 metadata, +300 sync, +500 scheduler, +600 monitoring).
Default: the profile's region, else the local \`npm start\` region (127.0.0.1:9000).
Credentials: CAIRN_OPERATOR_TOKEN, else the profile (--profile, CAIRN_PROFILE, the repo's
.cairn/profile.json written by \`npm start\`, ~/.cairn/profile.json), else the root S3 keys
(CAIRN_ACCESS_KEY_ID/CAIRN_SECRET_ACCESS_KEY or the profile's s3 section) traded for a token.

Exit codes: 0 ok, 1 the server refused or the operation failed, 2 usage error,
3 no credential or credential refused, 4 endpoint unreachable. See docs/cli.md.`;

/** The `cairn` command tree. Later issues add their verbs with a register*() of their own. */
export function buildProgram(io: CliIo): Command {
  const program = new Command('cairn');
  program
    .description('Operate a Cairn region through its admin APIs')
    .option('--endpoint <region|url>', 'a region of the profile, or the region S3 endpoint (host[:port] or URL) with the standard port layout')
    .option('--profile <file>', 'profile file with endpoints and credentials (default: CAIRN_PROFILE, .cairn/profile.json, ~/.cairn/profile.json)')
    .option('--json', 'print JSON for scripts instead of tables')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      outputError: (text, write) => write(`cairn: ${text.replace(/^error: /, '')}`),
    })
    .showSuggestionAfterError(true)
    .addHelpText('after', HELP_FOOTER);
  registerStatus(program, io);
  registerNodes(program, io);
  registerPlan(program, io);
  registerJobs(program, io);
  registerMaintenance(program, io);
  registerBucketsAndKeys(program, io);
  registerUsers(program, io);
  registerAuth(program, io);
  registerLinks(program, io);
  registerReplication(program, io);
  registerStorage(program, io);
  registerRegions(program, io);
  registerDrills(program, io);
  registerEncryption(program, io);
  registerBackups(program, io);
  registerLifecycle(program, io);
  return program;
}

/** Runs one command line; resolves with the exit code (errors already reported on stderr in one line). */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return ExitCodes.ok;
  } catch (error) {
    if (error instanceof PartialResult) return error.exitCode;
    if (error instanceof CommanderError) {
      // Help and --version end with 0; everything else commander rejects is a usage error it has already printed.
      return error.exitCode === 0 ? ExitCodes.ok : ExitCodes.usage;
    }
    if (error instanceof CliError) {
      io.stderr.write(`cairn: ${error.message.replace(/\s*\n\s*/g, ' ')}\n`);
      return error.exitCode;
    }
    io.stderr.write(`cairn: unexpected error: ${error instanceof Error ? error.message : String(error)}\n`);
    return ExitCodes.failed;
  }
}
