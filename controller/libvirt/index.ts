/**
 * libvirt adapter for parking/waking VMs. Use `connectHypervisor('qemu:///system')`
 * in production and `FakeHypervisor` in unit tests of the parking engine.
 */
export type { ConnectionStatus, DomainRunState, DomainState, Hypervisor, LifecycleEvent } from './hypervisor.js';
export { LibvirtError, type LibvirtErrorCode } from './errors.js';
export { connectHypervisor, RemoteHypervisor, type RemoteHypervisorOptions } from './remote.js';
export { FakeHypervisor, type FakeDomainOptions, type FakeCall, type FakeHypervisorOptions } from './fake.js';
export { domainXml, DomainXmlError, type DomainXmlOptions } from './domainXml.js';
