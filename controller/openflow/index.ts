// Public surface of the OpenFlow 1.3 codec. Import from here, not from the submodules.
export type * from './types.js';
export * from './constants.js';
export * from './errors.js';
