// The live fabric topology: LLDP discovery (discovery.ts, app.ts) and the graph it feeds (graph.ts).
export * from './graph.js';
export * from './discovery.js';
export * from './app.js';
