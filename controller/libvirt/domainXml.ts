/**
 * libvirt domain XML for the tiny direct-kernel-boot guests (mininet/guest/build.sh).
 *
 * Pure function, no I/O: the caller defines the result with virDomainDefineXML.
 */

export interface DomainXmlOptions {
  /** Domain name: libvirt's unique key. [A-Za-z0-9_.-], 1..64 chars. */
  name: string;
  /** Guest RAM in MiB (a managed save writes about this much to disk). */
  memoryMiB: number;
  /** NIC MAC, 'xx:xx:xx:xx:xx:xx'. */
  mac: string;
  /** OVS bridge the NIC is attached to (libvirt runs ovs-vsctl add-port itself). */
  bridge: string;
  /**
   * Name of the tap (= the OVS port name, `<target dev=...>`). The park engine finds a VM's
   * port by this name, so it must be fixed; default: libvirt picks `vnetN`, which changes on
   * every start or restore. Linux interface name, at most 15 chars, not `vnet*`/`vif*`
   * (libvirt reserves those prefixes and replaces such names).
   */
  targetDev?: string;
  /** Absolute path of the kernel image. */
  kernel: string;
  /** Absolute path of the initramfs. */
  initrd: string;
  /**
   * Kernel command line, e.g. 'seamless.ip=10.0.0.11/24 seamless.name=vm1'. console=ttyS0 is
   * added if absent, and init_on_free=1 (see `zeroFreedPages`) unless it sets init_on_free.
   */
  cmdline: string;
  /**
   * Have the guest kernel zero pages when it frees them (`init_on_free=1`, default true).
   * QEMU's migration stream, and so a managed-save image, skips only all-zero pages: without
   * this, every page the guest ever used and freed is written at park and read back at wake
   * (busybox guest, 128 MiB: image 78 MB -> 59 MB). Costs the guest a memset per freed page.
   */
  zeroFreedPages?: boolean;
  /** File the serial console is written to (absolute path), so boot problems can be read. Optional. */
  consoleLog?: string;
  /** Number of vCPUs (default 1). */
  vcpus?: number;
  /** QEMU emulator binary (default /usr/bin/qemu-system-x86_64). */
  emulator?: string;
}

export class DomainXmlError extends Error {
  readonly code = 'DOMAIN_XML_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'DomainXmlError';
  }
}

const NAME_RE = /^[A-Za-z0-9_.-]{1,64}$/;
const MAC_RE = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;
// OVS port/bridge names are Linux interface names: at most 15 bytes.
const BRIDGE_RE = /^[A-Za-z0-9_.-]{1,15}$/;

function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) =>
    c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&apos;',
  );
}

function absolutePath(what: string, p: string): string {
  if (!p.startsWith('/') || p.includes('\0')) throw new DomainXmlError(`${what} must be an absolute path, got ${JSON.stringify(p)}`);
  return p;
}

/**
 * Build the domain XML.
 *
 * - `type='qemu'` (TCG): KVM hangs on these machines (see NOTES.md).
 * - The NIC is virtio on an OVS bridge with every offload off on both host and guest side:
 *   the userspace OVS datapath does not complete partial checksums, so TCP fails otherwise.
 * - Serial console goes to `consoleLog` (append, so a restore from managed save keeps the
 *   boot log) and the kernel is told `console=ttyS0`.
 * - on_poweroff=destroy, on_crash=destroy: a shut-down guest stays off until we start it.
 * - No USB controller (libvirt adds a piix3-uhci one by default): nothing uses it, and every
 *   device is one more thing QEMU creates and restores on a wake from a managed save.
 */
export function domainXml(opts: DomainXmlOptions): string {
  if (!NAME_RE.test(opts.name)) throw new DomainXmlError(`invalid domain name ${JSON.stringify(opts.name)} (want [A-Za-z0-9_.-]{1,64})`);
  if (!Number.isInteger(opts.memoryMiB) || opts.memoryMiB < 32 || opts.memoryMiB > 65536) {
    throw new DomainXmlError(`memoryMiB must be an integer in 32..65536, got ${opts.memoryMiB}`);
  }
  if (!MAC_RE.test(opts.mac)) throw new DomainXmlError(`invalid MAC ${JSON.stringify(opts.mac)}`);
  // Bit 0 of the first octet is the group bit: a multicast MAC cannot be a NIC address.
  if ((parseInt(opts.mac.slice(0, 2), 16) & 1) === 1) throw new DomainXmlError(`MAC ${opts.mac} is multicast`);
  if (!BRIDGE_RE.test(opts.bridge)) throw new DomainXmlError(`invalid bridge name ${JSON.stringify(opts.bridge)}`);
  if (opts.targetDev !== undefined && (!BRIDGE_RE.test(opts.targetDev) || /^(vnet|vif|macvtap|macvlan)/.test(opts.targetDev))) {
    throw new DomainXmlError(`invalid tap name ${JSON.stringify(opts.targetDev)} (interface name of at most 15 chars, not vnet*/vif*/macvtap*/macvlan*)`);
  }
  const kernel = absolutePath('kernel', opts.kernel);
  const initrd = absolutePath('initrd', opts.initrd);
  const vcpus = opts.vcpus ?? 1;
  if (!Number.isInteger(vcpus) || vcpus < 1 || vcpus > 64) throw new DomainXmlError(`vcpus must be an integer in 1..64, got ${vcpus}`);
  const emulator = absolutePath('emulator', opts.emulator ?? '/usr/bin/qemu-system-x86_64');
  const extra: string[] = [];
  if (!/(^|\s)console=/.test(opts.cmdline)) extra.push('console=ttyS0');
  if ((opts.zeroFreedPages ?? true) && !/(^|\s)init_on_free=/.test(opts.cmdline)) extra.push('init_on_free=1');
  const cmdline = [...extra, opts.cmdline].join(' ').trim();

  const serial =
    opts.consoleLog !== undefined
      ? `    <serial type='file'>
      <source path='${escapeXml(absolutePath('consoleLog', opts.consoleLog))}' append='on'/>
      <target port='0'/>
    </serial>
    <console type='file'>
      <source path='${escapeXml(opts.consoleLog)}' append='on'/>
      <target type='serial' port='0'/>
    </console>
`
      : `    <serial type='null'>
      <target port='0'/>
    </serial>
`;

  return `<domain type='qemu'>
  <name>${escapeXml(opts.name)}</name>
  <memory unit='MiB'>${opts.memoryMiB}</memory>
  <currentMemory unit='MiB'>${opts.memoryMiB}</currentMemory>
  <vcpu>${vcpus}</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>${escapeXml(kernel)}</kernel>
    <initrd>${escapeXml(initrd)}</initrd>
    <cmdline>${escapeXml(cmdline)}</cmdline>
  </os>
  <features>
    <acpi/>
  </features>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>${escapeXml(emulator)}</emulator>
    <controller type='usb' model='none'/>
    <interface type='bridge'>
      <mac address='${opts.mac.toLowerCase()}'/>
      <source bridge='${escapeXml(opts.bridge)}'/>
      <virtualport type='openvswitch'/>
${opts.targetDev === undefined ? '' : `      <target dev='${opts.targetDev}'/>\n`}      <model type='virtio'/>
      <driver name='qemu'>
        <host csum='off' gso='off' tso4='off' tso6='off' ecn='off' ufo='off'/>
        <guest csum='off' tso4='off' tso6='off' ecn='off' ufo='off'/>
      </driver>
    </interface>
${serial}    <memballoon model='none'/>
  </devices>
</domain>
`;
}
