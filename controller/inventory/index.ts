// Inventory: switches, sinks, hosts and VMs of a deployment, validated.
export * from './types.js';
export { InventoryError, loadInventory, parseInventory, BUILTIN_DEFAULTS, BUILTIN_PARK, type LoadOptions } from './load.js';
export { parseDuration, DurationError } from './duration.js';
export { hypervisorsOf } from './hosts.js';
