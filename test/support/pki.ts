// A throw-away PKI for tests (openssl, keys in a temp dir removed at teardown):
// a CA and a client certificate it signed. Used where the test needs TLS material
// that libvirtd does NOT trust (a wrong CA, a foreign client certificate).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TlsFiles } from '../../controller/libvirt/uri.js';

export function makeTestPki(t: { teardown(fn: () => unknown): void }, cn = 'foreign'): TlsFiles & { dir: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'seamless-pki-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const f = (n: string) => path.join(dir, n);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  ssl('req', '-x509', '-new', '-nodes', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-days', '2', '-keyout', f('cakey.pem'), '-out', f('cacert.pem'),
    '-subj', `/CN=${cn} test CA`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign');
  ssl('req', '-new', '-nodes', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-keyout', f('clientkey.pem'), '-out', f('client.csr'), '-subj', `/CN=${cn} client`);
  writeFileSync(f('client.ext'), 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n');
  ssl('x509', '-req', '-in', f('client.csr'), '-CA', f('cacert.pem'), '-CAkey', f('cakey.pem'), '-CAcreateserial', '-days', '2', '-extfile', f('client.ext'), '-out', f('clientcert.pem'));
  return { dir, caCert: f('cacert.pem'), clientCert: f('clientcert.pem'), clientKey: f('clientkey.pem') };
}
