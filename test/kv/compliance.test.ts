// The KeyValueStore compliance suite against every implementation: MemoryKv; the mesh store on one node and
// across two (write on one, read on the other); KvRemote (a non-member through $mesh Kv.*) to a mesh node.
import { after } from 'node:test';
import { MemoryKv, createService, silentLogger, type Service } from '../../src/index.ts';
import { KvRemote } from '../../src/kv/remote.ts';
import { eventually, startNode } from '../support/agent-mesh.ts';
import { kvCompliance } from '../compliance/kv.ts';

const nodes: Service[] = [];
const mesh = async (): Promise<[Service, Service]> => {
  if (nodes.length === 0) {
    nodes.push(await startNode('kv-compliance'));
    nodes.push(await startNode('kv-compliance', nodes[0]!.mesh!.swim.address));
    await eventually(() => nodes[0]!.mesh!.peerCount(), (c) => c === 1, 'two members');
  }
  return [nodes[0]!, nodes[1]!];
};
after(async () => {
  for (const s of nodes.reverse()) await s.stop();
});

kvCompliance('memory', async () => {
  const kv = new MemoryKv();
  return { cas: true, writer: kv, reader: kv };
});
kvCompliance('mesh, one node', async () => {
  const [a] = await mesh();
  return { cas: false, writer: a.kv, reader: a.kv };
});
kvCompliance('mesh, written on one node and read on another', async () => {
  const [a, b] = await mesh();
  return { cas: false, writer: a.kv, reader: b.kv };
});
kvCompliance('remote (a non-member through $mesh Kv.*)', async () => {
  const [a, b] = await mesh();
  const client = createService({ name: 'kv-remote-client', mesh: false, logger: silentLogger });
  return {
    cas: false,
    writer: new KvRemote({ client: client.client, address: a.address! }),
    reader: new KvRemote({ client: client.client, address: b.address! }),
    teardown: () => client.stop(),
  };
});
