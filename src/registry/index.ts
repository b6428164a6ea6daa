export type {
  Metadata, Endpoint, Node, Service, RegistryEvent, RegisterOptions, QueryOptions, WatchOptions, Watcher, Registry,
} from './types.ts';
export { MemoryRegistry, type MemoryRegistryOptions } from './memory.ts';
export {
  StaticRegistry, type StaticRegistryOptions, STATIC_VERSION, ANY_SERVICE, staticNodeId,
} from './static.ts';
export { AsyncQueue, type AsyncQueueOptions } from './watcher.ts';
export { copyService, copyNode, sameService, validateService } from './util.ts';
export type { EtcdRegistryOptions } from './etcd-config.ts';
export { LazyRegistry } from './lazy.ts';
