// A development certificate authority and a server certificate for localhost / 127.0.0.1, made
// with the openssl binary on first use: `npm start -- --tls` serves S3 over HTTPS with it, and the
// HTTPS tests use it. Never for production: the CA's key sits beside it in the same directory.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const VALID_DAYS = '825';

function openssl(args, cwd) {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/**
 * Ensures `dir` holds ca.pem (the CA to trust), cert.pem and key.pem (the server's), and returns
 * their paths. `names` are the DNS names and IPs the certificate is for.
 */
function ensureDevCertificate(dir, names = ['localhost', '127.0.0.1']) {
  const files = { caFile: path.join(dir, 'ca.pem'), certFile: path.join(dir, 'cert.pem'), keyFile: path.join(dir, 'key.pem') };
  if (Object.values(files).every((f) => fs.existsSync(f))) return files;
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const altNames = names.map((n) => (/^[\d.]+$|:/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
  fs.writeFileSync(path.join(dir, 'server.ext'), `basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=${altNames}\n`);
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', VALID_DAYS, '-subj', '/CN=Cairn development CA'], dir);
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'key.pem', '-out', 'server.csr', '-subj', `/CN=${names[0]}`], dir);
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'cert.pem', '-days', VALID_DAYS, '-extfile', 'server.ext'], dir);
  for (const f of ['key.pem', 'ca.key']) fs.chmodSync(path.join(dir, f), 0o600);
  return files;
}

module.exports = { ensureDevCertificate };
