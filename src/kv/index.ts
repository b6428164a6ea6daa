export type * from './types.ts';
export { MemoryKv, type MemoryKvOptions } from './memory.ts';
export { KV_DEFAULTS, resolveKvConfig, type KvConfig } from './config.ts';
export { compareHlc, type Hlc } from './hlc.ts';
export { KvRemote } from './remote.ts';
export { EtcdKv, type EtcdKvOptions } from './etcd.ts';
