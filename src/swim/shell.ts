import type { Clock, Random } from '../clock/types.ts';
import type { Logger } from '../log/types.ts';
import type { Counters } from '../metrics/counters.ts';
import type { PacketWatch, Transport } from '../transport/types.ts';
import type { SwimConfig } from './config.ts';
import type { RateLimitedLog } from '../log/limit.ts';
import type { Envelope } from './security.ts';
import type { Membership } from './state.ts';
import type { SwimCounter } from './stats.ts';
import type { SwimWire } from './wire.ts';

/**
 * What the parts of the protocol shell (prober, streams) share: the node's
 * injected components and two services of the node. Internal; the public
 * surface is SwimNode.
 */
export interface ShellContext {
  readonly cfg: SwimConfig;
  readonly clock: Clock;
  readonly random: Random;
  readonly log: Logger;
  readonly limited: RateLimitedLog;
  readonly wire: SwimWire;
  readonly envelope: Envelope;
  readonly counters: Counters<SwimCounter>;
  readonly state: Membership;
  readonly streams: Transport;
  /** Aborted when the node stops, cancelling dials and exchanges in flight. */
  readonly lifetime: AbortSignal;
  /** False before start and after stop: nothing may be sent or changed then. */
  readonly running: boolean;
  /** Sends `msgs` in one packet to `to`, topped up with queued broadcasts unless `piggyback` is false. */
  sendPacket(to: string, msgs: readonly Uint8Array[], piggyback?: boolean): void;
  /** Sends a direct ping packet watched for a refusal when the transport can tell and watchRefusals is on (else plainly; undefined). */
  sendProbe(to: string, msgs: readonly Uint8Array[], refused: () => void): PacketWatch | undefined;
  /** Ends an entry point (packet, timer, API call): eager gossip if due, then event delivery. */
  afterChange(): void;
}
