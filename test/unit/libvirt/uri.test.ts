// libvirt URIs: where to connect (unix, TCP, TLS), what to open there, which PKI files.
import test from 'ava';
import { LibvirtError } from '../../../controller/libvirt/errors.js';
import { DEFAULT_TLS_FILES, endpointLabel, parseLibvirtUri } from '../../../controller/libvirt/uri.js';

test('local URIs: the daemon socket, or ?socket=; the open URI keeps only driver and path', (t) => {
  t.deepEqual(parseLibvirtUri('qemu:///system'), { endpoint: { kind: 'unix', socketPath: '/var/run/libvirt/libvirt-sock' }, openUri: 'qemu:///system' });
  t.deepEqual(parseLibvirtUri('qemu+unix:///system?socket=/tmp/x.sock'), { endpoint: { kind: 'unix', socketPath: '/tmp/x.sock' }, openUri: 'qemu:///system' });
  t.is(parseLibvirtUri('test:///default').openUri, 'test:///default');
});

test('TLS: default port 16514, libvirt default PKI paths, a host without a transport means TLS (as in libvirt)', (t) => {
  const want = { endpoint: { kind: 'tls', host: 'hv1.example', port: 16514, files: DEFAULT_TLS_FILES }, openUri: 'qemu:///system' };
  t.deepEqual(parseLibvirtUri('qemu+tls://hv1.example/system'), want);
  t.deepEqual(parseLibvirtUri('qemu://hv1.example/system'), want);
  t.deepEqual(DEFAULT_TLS_FILES, { caCert: '/etc/pki/CA/cacert.pem', clientCert: '/etc/pki/libvirt/clientcert.pem', clientKey: '/etc/pki/libvirt/private/clientkey.pem' });
  t.like(parseLibvirtUri('qemu+tls://10.0.0.5:16600/system').endpoint, { host: '10.0.0.5', port: 16600 });
  t.like(parseLibvirtUri('qemu+tls://[fd00::5]:16600/system').endpoint, { host: 'fd00::5', port: 16600 });
});

test('TLS paths: the inventory overrides each default; ?pkipath=DIR wins over both (libvirt file names)', (t) => {
  const e = parseLibvirtUri('qemu+tls://h/system', { caCert: '/srv/ca.pem', clientKey: '/srv/k.pem' }).endpoint;
  t.deepEqual(e.kind === 'tls' ? e.files : undefined, { caCert: '/srv/ca.pem', clientCert: '/etc/pki/libvirt/clientcert.pem', clientKey: '/srv/k.pem' });
  const p = parseLibvirtUri('qemu+tls://h/system?pkipath=/pki', { caCert: '/srv/ca.pem' }).endpoint;
  t.deepEqual(p.kind === 'tls' ? p.files : undefined, { caCert: '/pki/cacert.pem', clientCert: '/pki/clientcert.pem', clientKey: '/pki/clientkey.pem' });
});

test('TCP: default port 16509', (t) => {
  t.deepEqual(parseLibvirtUri('qemu+tcp://127.0.0.1/system').endpoint, { kind: 'tcp', host: '127.0.0.1', port: 16509 });
  t.deepEqual(parseLibvirtUri('qemu+tcp://h:1234/system').endpoint, { kind: 'tcp', host: 'h', port: 1234 });
});

test('refused, each with a reason: ssh, no_verify, session, a host on unix, no host on tcp/tls, bad port, unknown parameters', (t) => {
  const cases: Array<[string, RegExp]> = [
    ['qemu+ssh://root@h/system', /user name|ssh/],
    ['qemu+ssh://h/system', /transport 'ssh' is not supported/],
    ['qemu+libssh2://h/system', /transport 'libssh2'/],
    ['qemu+tls://h/system?no_verify=1', /no_verify is refused/],
    ['qemu:///session', /session daemons/],
    ['qemu+unix://h/system', /takes no host/],
    ['qemu+tcp:///system', /needs a host/],
    ['qemu+tls:///system', /needs a host/],
    ['qemu+tcp://h:70000/system', /out of range/],
    ['qemu+tcp://h/system?pkipath=/x', /'pkipath' is not supported with the tcp transport/],
    ['qemu+tls://h/system?keyfile=/x', /'keyfile'/],
    ['nonsense', /expected driver/],
  ];
  for (const [uri, why] of cases) {
    const e = t.throws(() => parseLibvirtUri(uri), { instanceOf: LibvirtError }, uri);
    t.is(e?.code, 'LIBVIRT_BAD_URI', uri);
    t.regex(e?.message ?? '', why, uri);
    t.true(e?.message.includes(uri), `the message names ${uri}`);
  }
});

test('endpoint labels name the host and transport', (t) => {
  t.is(endpointLabel(parseLibvirtUri('qemu+tls://hv1/system').endpoint), 'hv1:16514 (tls)');
  t.is(endpointLabel(parseLibvirtUri('qemu+tcp://[fd00::1]/system').endpoint), '[fd00::1]:16509 (tcp)');
  t.is(endpointLabel(parseLibvirtUri('qemu:///system').endpoint), '/var/run/libvirt/libvirt-sock');
});
