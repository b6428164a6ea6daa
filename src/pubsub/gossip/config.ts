import type { GossipsubOpts } from '@libp2p/gossipsub';
import * as v from 'valibot';
import { bool, intIn, str } from '../../config/validate.ts';
import type { PeerBrokerOptions } from '../direct.ts';
import { envelopeMsgId } from './envelope.ts';
import { peerBrokerSchema, PEER_BROKER_DEFAULTS, type PeerBrokerConfig } from '../peer-config.ts';

/** Settings of the gossip broker on top of PeerBrokerConfig (validated like it). */
export interface GossipBrokerConfig extends PeerBrokerConfig {
  /** Interface libp2p listens on. Default `127.0.0.1`; `0.0.0.0` on a LAN. */
  listenHost: string;
  /** TCP port libp2p listens on. [0, 65535], default 0 (any free port). */
  listenPort: number;
  /** Gossipsub mesh degree D (Dlo, Dhi around it). [1, 12], default 3: publishes are flooded to every topic peer anyway, so a small mesh only adds redundancy. */
  meshDegree: number;
  /** Gossipsub heartbeat, ms. [100, 10000], default 1000. */
  heartbeatIntervalMs: number;
  /** Gossipsub seen-cache lifetime, ms. [1000, 600000], default 30000 (gossipsub's 120 s keeps 4x the ids for nothing on a LAN). */
  seenTtlMs: number;
  /** Redial members we are not connected to this often, ms. [100, 600000], default 2000. */
  redialIntervalMs: number;
  /** Timeout of one libp2p dial, ms. [100, 60000], default 5000. */
  dialTimeoutMs: number;
  /** Largest message body accepted by publish, bytes. [1, 16 MiB], default 1 MiB (gossipsub holds whole messages in memory). */
  maxMessageBytes: number;
  /**
   * Whether nodes forward what they receive to their mesh peers (gossipsub's
   * normal relaying). Default false: every node dials every member, and the
   * publisher floods each message to every subscriber itself, so relayed
   * copies are pure duplicates (3 per message per receiver in a 5-node mesh,
   * each encrypted, sent, decrypted and deduplicated). Turn it on when not
   * every node can reach every other.
   */
  relay: boolean;
  /**
   * How long a batch waits, ms, until gossipsub can send to a subscriber:
   * one it knows but has no outbound stream to yet (after every new
   * connection), or one whose membership record lists the topic and that
   * gossipsub has not heard yet (after a join); meanwhile gossipsub would
   * skip it in silence. [0, 60000], default 1000; 0 never waits. A
   * subscriber still unreachable after this is given up on: its copies are
   * lost (at most once) and counted (`notSentCopies`).
   */
  streamWaitMs: number;
}

export const gossipSchema = v.strictObject({
  ...peerBrokerSchema,
  listenHost: str(255),
  listenPort: intIn(0, 65_535),
  meshDegree: intIn(1, 12),
  heartbeatIntervalMs: intIn(100, 10_000),
  seenTtlMs: intIn(1000, 600_000),
  redialIntervalMs: intIn(100, 600_000),
  dialTimeoutMs: intIn(100, 60_000),
  maxMessageBytes: intIn(1, 16 << 20),
  relay: bool(),
  streamWaitMs: intIn(0, 60_000),
});

export const GOSSIP_BROKER_DEFAULTS: Readonly<GossipBrokerConfig> = Object.freeze({
  ...PEER_BROKER_DEFAULTS,
  listenHost: '127.0.0.1',
  listenPort: 0,
  meshDegree: 3,
  heartbeatIntervalMs: 1000,
  seenTtlMs: 30_000,
  redialIntervalMs: 2000,
  dialTimeoutMs: 5000,
  maxMessageBytes: 1 << 20,
  relay: false,
  streamWaitMs: 1000,
});

export interface GossipBrokerOptions extends PeerBrokerOptions, Partial<Omit<GossipBrokerConfig, keyof PeerBrokerConfig>> {
  /** Directory keeping the libp2p key (`libp2p.key`), so the peer id survives restarts. Default: none (new id per start). */
  dataDir?: string;
}

/**
 * Gossipsub tuned for a LAN mesh (docs/pubsub.md): unsigned messages whose
 * id is our envelope header, flood publish, no floodsub, mesh degree
 * `meshDegree`, and no relaying unless `relay` is set.
 */
export function lanGossipsubOptions(c: GossipBrokerConfig): Partial<GossipsubOpts> {
  const D = c.meshDegree;
  return {
    globalSignaturePolicy: 'StrictNoSign',
    // The id is 12 header bytes, so no fastMsgIdFn (a second cache in front of a free id) and a
    // latin1 key instead of gossipsub's base64 (12 chars; keys only, never sent).
    msgIdFn: (m) => (m.data === undefined ? new Uint8Array(0) : envelopeMsgId(m.data)),
    msgIdToStrFn: (id) => Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('latin1'),
    // One RPC encoding per publish for every subscriber; control messages wait for the heartbeat instead of riding along.
    batchPublish: true,
    allowPublishToZeroTopicPeers: true,
    floodPublish: true,
    fallbackToFloodsub: false,
    emitSelf: false,
    D, Dlo: Math.max(1, D - 1), Dhi: D + 2, Dlazy: D, Dout: Math.min(1, D - 1), Dscore: Math.max(1, Math.floor(D / 2)),
    heartbeatInterval: c.heartbeatIntervalMs,
    seenTTL: c.seenTtlMs,
    maxInboundDataLength: c.maxBatchBytes + c.maxMessageBytes + 65_536,
    // Without relaying, messages wait for a validation verdict that is always "ignore": delivered here, never forwarded.
    asyncValidation: !c.relay,
  };
}
