// The converged bootstrap: how every scenario but `join` starts from a
// cluster that has been running for a while, without paying for the cold
// start (at N = 1000 that is ≈ 250k UDP packets and most of a minute of wall
// time, which the `join` scenario measures on its own).
//
// What it does, per node: decode one shared push-pull state of the whole
// cluster with the node's own decoder (so each node gets its own copy of
// every id and address, as a real push-pull gives it) and insert every row it
// does not know into its table as the merge of a push-pull inserts a
// newcomer: a MemberRecord, alive, at a random position of the probe order.
// What the bootstrap leaves out is the gossip such a merge queues (each
// newcomer's alive, to be sent retransmitMult × log10 N times): in a
// converged cluster those retransmissions were spent long ago. Nothing of
// this runs during a measured period; scenarios warm up on the real protocol
// afterwards, and `--bootstrap join` replaces it with real joins to check
// that both starts measure the same.
import { BroadcastQueue } from '../../src/swim/broadcasts.ts';
import { MemberRecord } from '../../src/swim/members.ts';
import { Membership } from '../../src/swim/state.ts';
import type { SwimNode } from '../../src/swim/types.ts';
import { MessageType, SwimWire, WireState, type MemberEntry } from '../../src/swim/wire.ts';
import type { SimHost } from './cluster.ts';

/** The parts of createSwimNode's implementation the bootstrap touches. */
interface NodeInternals {
  readonly state: Membership;
  readonly queue: BroadcastQueue;
  readonly wire: SwimWire;
}

/** The node's internals, checked, so a refactor of src/swim fails here loudly rather than silently. */
function internals(node: SwimNode): NodeInternals {
  const n = node as unknown as Partial<NodeInternals>;
  if (!(n.state instanceof Membership) || !(n.queue instanceof BroadcastQueue) || !(n.wire instanceof SwimWire)) {
    throw new Error('test/sim/bootstrap.ts: createSwimNode internals changed (state, queue, wire); update the bootstrap');
  }
  return n as NodeInternals;
}

/**
 * Gives every running node of `hosts` the full membership of `hosts`, all
 * alive at their current incarnations, with empty gossip queues: the state of
 * a cluster whose joins have long finished disseminating.
 */
export function bootstrapConverged(hosts: readonly SimHost[], nowMs: number): void {
  const rows: MemberEntry[] = hosts.map((h) => {
    const self = internals(h.node).state.self;
    return { id: self.id, incarnation: self.incarnation, address: self.address, state: WireState.Alive, meta: self.meta, metaVersion: self.metaVersion };
  });
  const encoded = new SwimWire().pushPull(false, rows);
  for (const h of hosts) {
    const inner = internals(h.node);
    const msg = inner.wire.decodeOne(encoded);
    if (typeof msg === 'string' || msg.type !== MessageType.PushPull) throw new Error(`bootstrap state did not decode: ${String(msg)}`);
    const table = inner.state.table;
    for (const e of msg.members) {
      if (table.get(e.id) === undefined) table.add(new MemberRecord(e.id, e.address, e.incarnation, e.meta, e.metaVersion, nowMs));
    }
    // The node's own alive, queued at start, has long been gossiped too.
    inner.queue.clear();
  }
}
