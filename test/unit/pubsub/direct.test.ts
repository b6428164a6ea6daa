import { MemoryMembershipNetwork } from '../../../src/membership/memory.ts';
import { DirectBroker } from '../../../src/pubsub/direct.ts';
import { brokerCompliance } from '../../compliance/broker.ts';
import { converged, rpcNode, type RpcNode } from './harness.ts';

async function network(n: number, opts: { maxDeliveries: number; queueStrategy?: 'roundRobin' | 'random' }) {
  const net = new MemoryMembershipNetwork();
  const nodes: RpcNode[] = [];
  for (let i = 0; i < n; i++) nodes.push(await rpcNode(net, `n${i}`));
  const brokers = nodes.map((node) => new DirectBroker({ membership: node.membership, client: node.client, server: node.server, ...opts }));
  return {
    brokers,
    maxDeliveries: opts.maxDeliveries,
    settle: () => converged(net),
    teardown: async () => {
      for (const node of nodes) await node.stop();
    },
  };
}

brokerCompliance('direct (3 nodes over TCP)', { setup: () => network(3, { maxDeliveries: 3 }) });
brokerCompliance('direct (1 node)', { setup: () => network(1, { maxDeliveries: 3 }) });
brokerCompliance('direct (2 nodes, random pick, 4 deliveries)', { setup: () => network(2, { maxDeliveries: 4, queueStrategy: 'random' }) });
