import { createCipheriv, createDecipheriv, randomFillSync } from 'node:crypto';
import { MeshError } from '../errors/index.ts';
import type { SwimKeyring } from './types.ts';

/**
 * The envelope around every SWIM packet and stream frame, and the keyring.
 *
 *   byte 0      envelope version (1)
 *   byte 1      flags: bit 0 = encrypted; other bits reserved (must be 0)
 *   byte 2      L, length of the cluster name in bytes
 *   3 .. 3+L    cluster name, UTF-8
 *   then        plaintext body, or nonce(12) ‖ AES-256-GCM ciphertext ‖ tag(16)
 *               with bytes 0 .. 3+L as additional authenticated data
 *
 * The cluster name is checked before anything else, so two meshes sharing a
 * network drop each other's traffic; when encrypting it is also authenticated.
 */

export const ENVELOPE_VERSION = 1;
const FLAG_ENCRYPTED = 0x01;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
/** Bytes encryption adds to a body. */
export const ENCRYPTION_OVERHEAD = NONCE_BYTES + TAG_BYTES;
export const KEY_BYTES = 32;

/** Why `open` rejected a packet; each is counted separately. */
export type OpenFailure = 'malformed' | 'badVersion' | 'wrongCluster' | 'unencrypted' | 'undecryptable';

/** AES-256-GCM keys: the primary encrypts, every installed key decrypts (so keys rotate without downtime). */
export class Keyring implements SwimKeyring {
  private list: Buffer[];

  /** @param keys 32-byte keys, primary first; at least one */
  constructor(keys: readonly Uint8Array[]) {
    if (keys.length === 0) throw new MeshError('SWIM_INVALID_KEY', 'a keyring needs at least one key', { status: 400, retryable: false });
    this.list = [];
    for (const k of keys) this.addKey(k);
  }

  addKey(key: Uint8Array): void {
    checkKey(key);
    if (this.indexOf(key) < 0) this.list.push(Buffer.from(key));
  }

  useKey(key: Uint8Array): void {
    this.addKey(key);
    const i = this.indexOf(key);
    const [k] = this.list.splice(i, 1);
    this.list.unshift(k!);
  }

  removeKey(key: Uint8Array): void {
    const i = this.indexOf(key);
    if (i === 0) {
      throw new MeshError('SWIM_KEY_IN_USE', 'cannot remove the primary key; make another key primary with useKey first', { status: 409, retryable: false });
    }
    if (i > 0) this.list.splice(i, 1);
  }

  keys(): Uint8Array[] {
    return this.list.map((k) => new Uint8Array(k));
  }

  /** nonce ‖ ciphertext ‖ tag of `plaintext` under the primary key, written into `out` at `offset`. */
  sealInto(aad: Uint8Array, plaintext: Uint8Array, out: Uint8Array, offset: number): void {
    // Nonces come from the OS CSPRNG whatever Random was injected: a repeated
    // GCM nonce leaks the key stream, and a seeded Random repeats by design.
    const nonce = out.subarray(offset, offset + NONCE_BYTES);
    randomFillSync(nonce);
    const cipher = createCipheriv('aes-256-gcm', this.list[0]!, nonce);
    cipher.setAAD(aad);
    let at = offset + NONCE_BYTES;
    const a = cipher.update(plaintext);
    out.set(a, at);
    at += a.length;
    const b = cipher.final();
    out.set(b, at);
    at += b.length;
    out.set(cipher.getAuthTag(), at);
  }

  /** The plaintext of nonce ‖ ciphertext ‖ tag under any installed key, or undefined. */
  open(aad: Uint8Array, sealed: Uint8Array): Uint8Array | undefined {
    if (sealed.length < ENCRYPTION_OVERHEAD) return undefined;
    const nonce = sealed.subarray(0, NONCE_BYTES);
    const body = sealed.subarray(NONCE_BYTES, sealed.length - TAG_BYTES);
    const tag = sealed.subarray(sealed.length - TAG_BYTES);
    for (const key of this.list) {
      try {
        const d = createDecipheriv('aes-256-gcm', key, nonce);
        d.setAAD(aad);
        d.setAuthTag(tag);
        const head = d.update(body);
        const tail = d.final();
        return tail.length === 0 ? head : Buffer.concat([head, tail]);
      } catch {
        // Wrong key or tampered: try the next one.
      }
    }
    return undefined;
  }

  private indexOf(key: Uint8Array): number {
    return this.list.findIndex((k) => k.length === key.length && k.equals(key));
  }
}

function checkKey(key: Uint8Array): void {
  if (!(key instanceof Uint8Array) || key.length !== KEY_BYTES) {
    const got = key instanceof Uint8Array ? `${key.length} bytes` : typeof key;
    throw new MeshError('SWIM_INVALID_KEY', `an AES-256-GCM key must be ${KEY_BYTES} bytes, got ${got}`, { status: 400, retryable: false });
  }
}

/** Builds and opens envelopes for one node (its cluster name and keyring). */
export class Envelope {
  /** Bytes the envelope adds around a body. */
  readonly overhead: number;
  private readonly header: Uint8Array;
  private readonly keyring: Keyring | undefined;

  constructor(clusterName: string, keyring: Keyring | undefined) {
    const name = Buffer.from(clusterName, 'utf8');
    if (name.length > 255) throw new MeshError('INVALID_CONFIG', 'swim.clusterName must be at most 255 bytes');
    this.keyring = keyring;
    this.header = new Uint8Array(3 + name.length);
    this.header[0] = ENVELOPE_VERSION;
    this.header[1] = keyring ? FLAG_ENCRYPTED : 0;
    this.header[2] = name.length;
    this.header.set(name, 3);
    this.overhead = this.header.length + (keyring ? ENCRYPTION_OVERHEAD : 0);
  }

  /** One packet holding `parts` concatenated (a CBOR sequence), `bodyBytes` long in total. */
  seal(parts: readonly Uint8Array[], bodyBytes: number): Uint8Array {
    const h = this.header;
    const out = new Uint8Array(this.overhead + bodyBytes);
    out.set(h, 0);
    if (this.keyring === undefined) {
      let at = h.length;
      for (const p of parts) {
        out.set(p, at);
        at += p.length;
      }
      return out;
    }
    let body: Uint8Array;
    if (parts.length === 1) body = parts[0]!;
    else {
      body = new Uint8Array(bodyBytes);
      let at = 0;
      for (const p of parts) {
        body.set(p, at);
        at += p.length;
      }
    }
    this.keyring.sealInto(h, body, out, h.length);
    return out;
  }

  /** The body of a packet or frame, or why it was rejected. Never throws. */
  open(packet: Uint8Array): Uint8Array | OpenFailure {
    if (packet.length < 3) return 'malformed';
    if (packet[0] !== ENVELOPE_VERSION || (packet[1]! & ~FLAG_ENCRYPTED) !== 0) return 'badVersion';
    const h = this.header;
    const headerBytes = 3 + packet[2]!;
    if (packet.length < headerBytes) return 'malformed';
    if (packet[2] !== h[2]) return 'wrongCluster';
    for (let i = 3; i < headerBytes; i++) if (packet[i] !== h[i]) return 'wrongCluster';
    const encrypted = (packet[1]! & FLAG_ENCRYPTED) !== 0;
    const rest = packet.subarray(headerBytes);
    if (this.keyring === undefined) return encrypted ? 'undecryptable' : rest;
    if (!encrypted) return 'unencrypted';
    return this.keyring.open(packet.subarray(0, headerBytes), rest) ?? 'undecryptable';
  }
}
