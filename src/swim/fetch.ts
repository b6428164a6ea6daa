import type { Clock } from '../clock/types.ts';
import { MeshError } from '../errors/index.ts';
import type { Transport } from '../transport/types.ts';
import { Envelope, Keyring } from './security.ts';
import { frame, receiveFrame } from './streams.ts';
import type { MemberState } from './types.ts';
import { MessageType, SwimWire, WireState } from './wire.ts';

export interface FetchMembersOptions {
  /** Stream transport to dial with (TCP). */
  streams: Transport;
  clock: Clock;
  /** The mesh's cluster name; the node ignores other clusters. Default ''. */
  clusterName?: string;
  /** Gossip keys when the mesh encrypts; the first one is used to send. */
  keys?: readonly Uint8Array[];
  /** Give up after this long, ms. Default 2000. */
  timeoutMs?: number;
  /** Largest state accepted, bytes. Default 16 MiB. */
  maxBytes?: number;
  signal?: AbortSignal;
}

/** One member as a node reports it. */
export interface FetchedMember {
  id: string;
  address: string;
  state: MemberState;
  incarnation: number;
  metadata: Uint8Array;
  metaVersion: number;
}

const STATES: Record<number, MemberState> = {
  [WireState.Alive]: 'alive', [WireState.Suspect]: 'suspect', [WireState.Dead]: 'dead', [WireState.Left]: 'left',
};

/**
 * Reads the membership of the node at `address` without joining: a
 * push-pull that pushes an empty state, so the node merges nothing and never
 * learns about us. Command-line clients use it to look at the mesh and leave
 * no ghost member behind.
 */
export async function fetchMembers(address: string, o: FetchMembersOptions): Promise<FetchedMember[]> {
  const timeoutMs = o.timeoutMs ?? 2000;
  const envelope = new Envelope(o.clusterName ?? '', o.keys && o.keys.length > 0 ? new Keyring(o.keys) : undefined);
  const wire = new SwimWire();
  const socket = await o.streams.dial(address, { timeoutMs, signal: o.signal });
  try {
    const reply = receiveFrame(socket, o.maxBytes ?? 16 << 20, timeoutMs, o.clock);
    const request = wire.pushPull(false, []);
    socket.write(frame(envelope.seal([request], request.length)));
    const body = envelope.open(await reply);
    if (typeof body === 'string') {
      throw new MeshError('PROTOCOL_ERROR', `${address} answered with a frame we cannot open (${body}): another cluster name or gossip key?`);
    }
    const msg = wire.decodeOne(body);
    if (typeof msg === 'string' || msg.type !== MessageType.PushPull) {
      throw new MeshError('PROTOCOL_ERROR', `${address} did not answer with its membership`);
    }
    return msg.members.map((m) => ({
      id: m.id, address: m.address, state: STATES[m.state] ?? 'dead', incarnation: m.incarnation, metadata: m.meta, metaVersion: m.metaVersion,
    }));
  } finally {
    socket.end();
  }
}
