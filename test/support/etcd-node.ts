// A process that registers one node in etcd (ttlMs 2000) and then only keeps
// its lease alive: the SIGKILL test kills it to see the node expire.
//   tsx test/support/etcd-node.ts <etcd url> <service> <node id>
import { EtcdRegistry } from '../../src/registry/etcd.ts';

const [url, name, id] = process.argv.slice(2) as [string, string, string];
const registry = new EtcdRegistry({ hosts: url, ttlMs: 2000 });
await registry.register({ name, version: '1', metadata: {}, endpoints: [], nodes: [{ id, address: '127.0.0.1:1', metadata: {} }] });
console.log('READY');
setInterval(() => undefined, 60_000);
