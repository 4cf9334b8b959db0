// `cairn`, the operator CLI (docs/cli.md): run through tools/cli/cairn.js (`npx cairn …`).
import { runCli } from './cli';

runCli(process.argv.slice(2), { env: process.env, stdout: process.stdout, stderr: process.stderr }).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`cairn: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
