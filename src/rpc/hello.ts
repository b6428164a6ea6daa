import type { Encoder } from 'cbor-x';
import type { PeerHello } from './call-host.ts';

/** Window a peer is assumed to grant before its Hello arrives (the smallest it may configure). */
export const MIN_WINDOW_BYTES = 64 * 1024;
/** The smallest frame limit a peer may announce (rpc.maxFrameBytes' own minimum). */
const MIN_PEER_FRAME_BYTES = 1024;

/** Our Hello's payload (docs/PROTOCOL.md, Hello). */
export function encodeHello(cbor: Encoder, maxFrameBytes: number, windowBytes: number, address: string | undefined): Uint8Array {
  const hello: Record<string, unknown> = { v: 1, maxFrameBytes, windowBytes };
  if (address !== undefined) hello.address = address;
  return cbor.encode(hello);
}

/**
 * A peer's Hello, or why it is a protocol error. Absent settings take our
 * own frame limit and the minimum window; a frame limit we could not honour
 * (negative, fractional, NaN, under 1 KiB, over 4 GiB) is a broken peer,
 * not a setting.
 */
export function decodeHello(cbor: Encoder, payload: Uint8Array, ownMaxFrameBytes: number): PeerHello | string {
  let h: Record<string, unknown>;
  try {
    h = cbor.decode(payload) as Record<string, unknown>;
  } catch {
    return 'undecodable Hello';
  }
  if (h === null || typeof h !== 'object') return 'Hello is not a map';
  const m = h.maxFrameBytes;
  if (m !== undefined && !(typeof m === 'number' && Number.isInteger(m) && m >= MIN_PEER_FRAME_BYTES && m <= 0xffffffff)) {
    return `Hello maxFrameBytes must be an integer in [${MIN_PEER_FRAME_BYTES}, 4294967295], got ${String(m).slice(0, 40)}`;
  }
  const windowBytes = typeof h.windowBytes === 'number' && h.windowBytes >= MIN_WINDOW_BYTES ? h.windowBytes : MIN_WINDOW_BYTES;
  return { maxFrameBytes: typeof m === 'number' ? m : ownMaxFrameBytes, windowBytes, address: typeof h.address === 'string' ? h.address : undefined };
}
