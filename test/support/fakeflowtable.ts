// The fake flow table moved to controller/replay/flowtable.ts: the replay engine's
// simulated switch uses it too (one flow table with OXM semantics, not two).
export * from '../../controller/replay/flowtable.js';
