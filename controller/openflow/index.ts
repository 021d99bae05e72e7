// Public surface of the OpenFlow 1.3 codec. Import from here, not from the submodules.
export type * from './types.js';
export * from './constants.js';
export * from './errors.js';
export { decode } from './decode.js';
export { encode, encodeInto, messageSize } from './encode.js';
export { Framer, type FramerOptions } from './framer.js';
export { mergeMultipart } from './merge.js';
export { toJSON, fromJSON } from './json.js';
export { OXM_FIELDS, OXM_BY_NAME, formatOxm, formatMatch, type OxmFieldDef } from './oxm.js';
export * as build from './build.js';
