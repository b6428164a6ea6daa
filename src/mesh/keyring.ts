import { createHash } from 'node:crypto';
import { MeshError } from '../errors/index.ts';
import { KEYRING_INSTALL, KEYRING_LIST, KEYRING_REMOVE, KEYRING_USE } from '../rpc/internal.ts';
import type { Server } from '../rpc/types.ts';
import type { SwimKeyring } from '../swim/types.ts';

/** Bytes of an AES-256-GCM gossip key. */
const KEY_BYTES = 32;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** What every keyring endpoint answers: fingerprints only, so a read over RPC never leaks a key. */
export interface KeyringState {
  /** SHA-256 fingerprints (first 16 hex digits) of the installed keys, primary first. */
  keys: string[];
  /** The primary's fingerprint: the key that encrypts. */
  primary: string;
}

/** First 16 hex digits of the key's SHA-256: enough to tell keys apart, useless to decrypt. */
export function keyFingerprint(key: Uint8Array): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

/**
 * Serves `$mesh` `Keyring.List|Install|Use|Remove` over the node's SWIM
 * keyring, so an operator rotates the gossip key across a running mesh the
 * way Serf does: install everywhere, use everywhere, remove the old one
 * everywhere. `keyring()` is read per call: undefined means a plaintext
 * node, which refuses (a key in a plaintext mesh would change nothing).
 */
export function serveKeyring(server: Server, keyring: () => SwimKeyring | undefined): void {
  const ring = (): SwimKeyring => {
    const k = keyring();
    if (k === undefined) throw new MeshError('FAILED_PRECONDITION', 'this node\'s gossip is not encrypted (started without mesh keys); keys cannot be managed on a plaintext mesh');
    return k;
  };
  server.handleInternal(KEYRING_LIST.handler, {
    [KEYRING_LIST.method]: () => state(ring()),
    [KEYRING_INSTALL.method]: (req: unknown) => {
      const r = ring();
      r.addKey(keyOf(req));
      return state(r);
    },
    [KEYRING_USE.method]: (req: unknown) => {
      const r = ring();
      const key = keyOf(req);
      // Serf's rule: a key becomes primary only once installed, so `use` never
      // lands on a node that other nodes cannot yet decrypt from.
      if (!installed(r, key)) throw new MeshError('NOT_FOUND', `key ${keyFingerprint(key)} is not installed on this node; install it first`);
      r.useKey(key);
      return state(r);
    },
    [KEYRING_REMOVE.method]: (req: unknown) => {
      const r = ring();
      const key = keyOf(req);
      const primary = r.keys()[0];
      if (primary !== undefined && equal(primary, key)) {
        throw new MeshError('FAILED_PRECONDITION', `key ${keyFingerprint(key)} is this node's primary; use another key first`);
      }
      r.removeKey(key);
      return state(r);
    },
  });
}

/** The 32-byte key of a request `{ key: base64 }`; BAD_REQUEST naming what was wrong. */
export function keyOf(req: unknown): Uint8Array {
  const text = typeof req === 'object' && req !== null ? (req as { key?: unknown }).key : undefined;
  if (typeof text !== 'string' || !BASE64.test(text)) throw new MeshError('BAD_REQUEST', 'request must be { key: <32 bytes in base64> }');
  const key = Buffer.from(text, 'base64');
  if (key.length !== KEY_BYTES) throw new MeshError('BAD_REQUEST', `key must be ${KEY_BYTES} bytes, got ${key.length} bytes`);
  return new Uint8Array(key);
}

function state(r: SwimKeyring): KeyringState {
  const keys = r.keys().map(keyFingerprint);
  return { keys, primary: keys[0] ?? '' };
}

function installed(r: SwimKeyring, key: Uint8Array): boolean {
  return r.keys().some((k) => equal(k, key));
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a).equals(b);
}
