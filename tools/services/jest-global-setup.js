// Every test run starts by making sure NATS, Postgres and Redis answer (starting private ones if
// needed), so integration tests never fail for a service that was merely stopped.
const { ensureLocalServices } = require('./local-services');

module.exports = async () => {
  await ensureLocalServices({ log: (line) => process.stderr.write(`[test setup] ${line}\n`) });
};
