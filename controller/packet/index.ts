// Ethernet/ARP/IPv4/ICMP/TCP/UDP parse and build helpers for packet-in and packet-out payloads.
export * from './addr.js';
export * from './checksum.js';
export * from './parse.js';
export * from './build.js';
export * from './lldp.js';
