import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PrivateKey } from '@libp2p/interface';
import type { GossipSub, GossipsubOpts } from '@libp2p/gossipsub';
import type { Libp2p } from 'libp2p';
import { MeshError } from '../../errors/index.ts';
import { halfWindowUpdates, lighterNoise, type WireFallback } from './wire.ts';

/**
 * The libp2p shell of the gossip broker. Every libp2p module is loaded here
 * with `import()` when a gossip broker starts, never at module load: a
 * service without pubsub (or with the direct broker) pays neither the ~0.2 s
 * import nor the memory (test/unit/pubsub/lazy.test.ts checks it). Only
 * type imports appear at the top of this file.
 */

export type GossipNode = Libp2p<{ pubsub: GossipSub }>;

export interface GossipNodeOptions {
  /** Multiaddr to listen on, e.g. `/ip4/127.0.0.1/tcp/0`. */
  listen: string;
  /** Where the node key lives (`libp2p.key`); undefined: a fresh identity each start. */
  dataDir: string | undefined;
  /** Gossipsub options (merged over gossipsub's defaults). */
  gossipsub: Partial<GossipsubOpts>;
  /** Called when one of src/pubsub/gossip/wire.ts's adjustments could not be applied (a libp2p upgrade changed its internals). */
  onWireFallback: (what: WireFallback) => void;
}

/** File under `dataDir` holding the libp2p private key (protobuf, mode 0600). */
export const KEY_FILE = 'libp2p.key';

/** Loads the key persisted under `dataDir`, or creates and persists one (Ed25519). */
export async function loadOrCreateKey(dataDir: string): Promise<PrivateKey> {
  const { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } = await import('@libp2p/crypto/keys');
  const file = join(dataDir, KEY_FILE);
  let bytes: Uint8Array | undefined;
  try {
    bytes = await readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new MeshError('INVALID_CONFIG', `cannot read the libp2p key ${file}: ${(err as Error).message}`, { cause: err });
    }
  }
  if (bytes !== undefined) {
    try {
      return privateKeyFromProtobuf(bytes);
    } catch (err) {
      throw new MeshError('INVALID_CONFIG', `the libp2p key ${file} is corrupt (${(err as Error).message}); move it away to get a new peer id`, { cause: err });
    }
  }
  const key = await generateKeyPair('Ed25519');
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  // Write then rename, so a crash never leaves half a key behind.
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, privateKeyToProtobuf(key), { mode: 0o600 });
  await rename(tmp, file);
  return key;
}

/** Creates and starts a libp2p node with TCP, Noise, yamux, identify and gossipsub. */
export async function createGossipNode(o: GossipNodeOptions): Promise<GossipNode> {
  const [{ createLibp2p }, { tcp }, { noise }, { yamux }, { identify }, { gossipsub }] = await Promise.all([
    import('libp2p'), import('@libp2p/tcp'), import('@chainsafe/libp2p-noise'), import('@libp2p/yamux'),
    import('@libp2p/identify'), import('@libp2p/gossipsub'),
  ]);
  const privateKey = o.dataDir === undefined ? undefined : await loadOrCreateKey(o.dataDir);
  return createLibp2p({
    privateKey,
    addresses: { listen: [o.listen] },
    transports: [tcp()],
    // src/pubsub/gossip/wire.ts: one socket write per Noise frame, a Noise reader that does not throw, yamux window updates at half the window.
    connectionEncrypters: [(components: Parameters<ReturnType<typeof noise>>[0]) => lighterNoise(noise()(components), o.onWireFallback)],
    streamMuxers: [() => halfWindowUpdates(yamux()(), o.onWireFallback)],
    services: {
      identify: identify(),
      pubsub: gossipsub(o.gossipsub),
    },
  }) as Promise<GossipNode>;
}

/** Parses a multiaddr string (loads @multiformats/multiaddr on first use, already loaded by libp2p). */
export async function multiaddrParser(): Promise<(s: string) => import('@multiformats/multiaddr').Multiaddr> {
  const { multiaddr } = await import('@multiformats/multiaddr');
  return multiaddr;
}

/** Parses a peer id string. */
export async function peerIdParser(): Promise<(s: string) => import('@libp2p/interface').PeerId> {
  const { peerIdFromString } = await import('@libp2p/peer-id');
  return peerIdFromString;
}
