// The parking engine: park idle VMs, wake them on their first packet.
export { createParkApp, type ParkApp, type ParkAppOptions, type VmStatus } from './app.js';
export { systemClock, VirtualClock, type Clock, type TimerHandle } from '../clock.js';
export { MemoryStateStore, type ParkRecord, type StateStore } from './store.js';
export { parkDomain, wakeDomain, DomainStateError, type WakeKind } from './hypervisor.js';
export * from './machine.js';
export { PRIO, KIND, cookieOf, decodeCookie } from './flows.js';
export { packetVerdict, type ParkObserver, type ParkPacketVerdict, type LibvirtOpName } from './observer.js';
