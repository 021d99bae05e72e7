import test from 'ava';
import { domainXml, DomainXmlError, type DomainXmlOptions } from '../../../controller/libvirt/domainXml.js';

const base: DomainXmlOptions = {
  name: 'vm1',
  memoryMiB: 128,
  mac: '52:54:00:AA:00:11',
  bridge: 'br0',
  kernel: '/var/tmp/g/vmlinuz',
  initrd: '/var/tmp/g/initrd.cpio.gz',
  cmdline: 'seamless.ip=10.0.0.11/24 seamless.name=vm1',
  consoleLog: '/var/tmp/g/console/vm1.log',
};

test('TCG domain with direct kernel boot and console on ttyS0', (t) => {
  const xml = domainXml(base);
  t.regex(xml, /^<domain type='qemu'>/);
  t.regex(xml, /<name>vm1<\/name>/);
  t.regex(xml, /<memory unit='MiB'>128<\/memory>/);
  t.regex(xml, /<kernel>\/var\/tmp\/g\/vmlinuz<\/kernel>/);
  t.regex(xml, /<initrd>\/var\/tmp\/g\/initrd.cpio.gz<\/initrd>/);
  t.regex(xml, /<cmdline>console=ttyS0 init_on_free=1 seamless.ip=10.0.0.11\/24 seamless.name=vm1<\/cmdline>/);
  t.regex(xml, /<serial type='file'>\s*<source path='\/var\/tmp\/g\/console\/vm1.log' append='on'\/>/);
});

test('NIC is virtio on an OVS bridge with every offload off', (t) => {
  const xml = domainXml(base);
  const nic = /<interface type='bridge'>[\s\S]*?<\/interface>/.exec(xml)?.[0] ?? '';
  t.regex(nic, /<mac address='52:54:00:aa:00:11'\/>/);
  t.regex(nic, /<source bridge='br0'\/>/);
  t.regex(nic, /<virtualport type='openvswitch'\/>/);
  t.regex(nic, /<model type='virtio'\/>/);
  t.regex(nic, /<host csum='off' gso='off' tso4='off' tso6='off' ecn='off' ufo='off'\/>/);
  t.regex(nic, /<guest csum='off' tso4='off' tso6='off' ecn='off' ufo='off'\/>/);
});

test('an explicit console= is kept and no console log gives a null serial', (t) => {
  const { consoleLog: _omit, ...noLog } = base;
  const xml = domainXml({ ...noLog, cmdline: 'console=hvc0 quiet' });
  t.regex(xml, /<cmdline>init_on_free=1 console=hvc0 quiet<\/cmdline>/);
  t.regex(xml, /<serial type='null'>/);
  t.notRegex(xml, /type='file'/);
});

test('XML special characters in the command line are escaped', (t) => {
  const xml = domainXml({ ...base, cmdline: `a=<b>&"c'` });
  t.regex(xml, /<cmdline>console=ttyS0 init_on_free=1 a=&lt;b&gt;&amp;&quot;c&apos;<\/cmdline>/);
});

test('freed guest pages are zeroed (smaller managed-save image) unless turned off or set in the command line', (t) => {
  t.regex(domainXml(base), /<cmdline>[^<]*\binit_on_free=1\b/);
  t.notRegex(domainXml({ ...base, zeroFreedPages: false }), /init_on_free/);
  const own = domainXml({ ...base, cmdline: 'init_on_free=0 quiet' });
  t.regex(own, /<cmdline>console=ttyS0 init_on_free=0 quiet<\/cmdline>/);
});

test('no USB controller: one device less for QEMU to create and restore', (t) => {
  const xml = domainXml(base);
  t.regex(xml, /<controller type='usb' model='none'\/>/);
  t.is(xml.match(/<controller /g)?.length, 1);
});

const bad: Array<[string, Partial<DomainXmlOptions>, RegExp]> = [
  ['name with a space', { name: 'vm 1' }, /invalid domain name/],
  ['name with a quote', { name: "vm'1" }, /invalid domain name/],
  ['too little memory', { memoryMiB: 8 }, /memoryMiB/],
  ['fractional memory', { memoryMiB: 128.5 }, /memoryMiB/],
  ['short MAC', { mac: '52:54:00:aa:00' }, /invalid MAC/],
  ['multicast MAC', { mac: '01:00:5e:00:00:01' }, /multicast/],
  ['bridge name too long', { bridge: 'a-very-long-bridge' }, /invalid bridge/],
  ['relative kernel', { kernel: 'vmlinuz' }, /kernel must be an absolute path/],
  ['relative initrd', { initrd: './initrd' }, /initrd must be an absolute path/],
  ['zero vcpus', { vcpus: 0 }, /vcpus/],
];
for (const [what, patch, msg] of bad) {
  test(`rejects ${what}`, (t) => {
    const err = t.throws(() => domainXml({ ...base, ...patch } as DomainXmlOptions), { instanceOf: DomainXmlError });
    t.is(err?.code, 'DOMAIN_XML_INVALID');
    t.regex(err?.message ?? '', msg);
  });
}

test('targetDev fixes the tap (OVS port) name; reserved or over-long names are rejected', (t) => {
  t.notRegex(domainXml(base), /<target dev=/);
  const nic = /<interface type='bridge'>[\s\S]*?<\/interface>/.exec(domainXml({ ...base, targetDev: 'vm1-tap' }))?.[0] ?? '';
  t.regex(nic, /<target dev='vm1-tap'\/>/);
  for (const bad of ['vnet3', 'a-very-long-tapname', 'bad name', "x'y"]) {
    t.throws(() => domainXml({ ...base, targetDev: bad }), { instanceOf: DomainXmlError }, bad);
  }
});
