/**
 * s3rver, the reference of `npm run bench`, in a process of its own (so neither the bench's
 * client nor the region it parents shares its event loop or heap). Serves the directory given
 * as the first argument on a free port and prints one JSON line: { port }.
 */
async function main(): Promise<void> {
  const S3rver = require('s3rver');
  const server = new S3rver({ port: 0, address: '127.0.0.1', directory: process.argv[2], silent: true, configureBuckets: [] });
  const { port } = (await server.run()) as { port: number };
  process.stdout.write(`${JSON.stringify({ port })}\n`);
  const stop = () => void (server.close() as Promise<void>).finally(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
