/**
 * SWIM membership with Lifeguard: failure detection and dissemination for the
 * mesh. Start here: {@link createSwimNode}; the contract is in types.ts, the
 * settings in config.ts, the wire format in docs/protocol-swim.md.
 *
 * @example
 * const node = createSwimNode({ bindAddress: '127.0.0.1:0', packets: new UdpNetwork(), streams: new TcpTransport(), profile: 'lan' });
 * node.on('dead', (e) => console.log(e.member.id, 'failed'));
 * await node.start();
 * await node.join(['10.0.0.5:7946']);
 */
export type {
  Member, MemberState, SwimEvent, SwimEventType, SwimListener, ProbeOutcome, SwimNode, SwimNodeOptions, SwimStats, SwimKeyring,
} from './types.ts';
export { createSwimNode } from './node.ts';
export { resolveSwimConfig, SWIM_PROFILES, type SwimConfig, type SwimProfile } from './config.ts';
export { SWIM_COUNTERS, type SwimCounter } from './stats.ts';
export { suspicionTimeoutMs, retransmitLimit, pushPullScaleMs, remainingSuspicionMs, suspicionConfirmationsWanted } from './math.ts';
export { Keyring, KEY_BYTES } from './security.ts';
