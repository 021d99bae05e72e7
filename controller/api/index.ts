// The daemon's control API (server, real source, client) and its JSON shapes.
export { DEFAULT_API_SOCKET, formatApiAddress, parseApiAddress, type ApiAddress } from './address.js';
export { ApiClient } from './client.js';
export { ApiConfigError, ApiRequestError, ApiUnreachableError, VmBusyError, VmNotFoundError } from './errors.js';
export { startApiServer, type ApiServer, type ApiServerOptions } from './server.js';
export { createControlSource, WakeTimes, type ControlSourceOptions, type DatapathSource, type StoreHealth } from './source.js';
export type * from './types.js';
export { ControlPlane, type ControlPlaneOptions } from './plane.js';
