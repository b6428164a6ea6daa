/**
 * Inputs for the fuzz targets (targets.ts): seeds mutated by a list of
 * mutations held as data (so fast-check shrinks a failing input to its
 * fewest, smallest mutations), or random bytes. The fuzz script draws the
 * same mutations from a seeded PRNG, where fast-check's generation would
 * cost more than most decoders.
 */
import fc from 'fast-check';

/** One mutation, as data, so fast-check can shrink a failing sequence. */
export interface Mutation { op: number; at: number; len: number; byte: number }
const OPS = 7;
/** Bytes that sit on decoders' edges: CBOR heads with huge or indefinite lengths, 0, 0xff, sign bits. */
const EDGES = [0x00, 0xff, 0x7f, 0x80, 0x1b, 0x5b, 0x7b, 0x9b, 0xbb, 0x9f, 0xbf, 0x5f, 0xf6, 0xf7, 0xfb, 0xc0, 0xd8, 0x18, 0x19, 0x1a];

export function mutate(seed: Uint8Array, muts: readonly Mutation[], seeds: readonly Uint8Array[]): Uint8Array {
  let b: Uint8Array = Uint8Array.from(seed);
  for (const m of muts) {
    const at = b.length === 0 ? 0 : m.at % (b.length + 1);
    switch (m.op % OPS) {
      case 0: // flip a bit
        if (at < b.length) b[at] = b[at]! ^ (1 << (m.byte & 7));
        break;
      case 1: // set a byte, often an edge value
        if (at < b.length) b[at] = m.byte & 1 ? EDGES[m.byte % EDGES.length]! : m.byte;
        break;
      case 2: { // insert bytes
        const ins = new Uint8Array(1 + (m.len % 8)).fill(m.byte);
        b = concat(b.subarray(0, at), ins, b.subarray(at));
        break;
      }
      case 3: // delete bytes
        b = concat(b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + (m.len % 16))));
        break;
      case 4: // truncate
        b = b.subarray(0, at);
        break;
      case 5: { // splice in part of another seed
        const o = seeds[m.byte % seeds.length]!;
        const from = o.length === 0 ? 0 : m.len % o.length;
        b = concat(b.subarray(0, at), o.subarray(from, from + 1 + (m.len % 32)), b.subarray(at));
        break;
      }
      default: // duplicate a slice (repeated fields, overlong lists)
        b = concat(b.subarray(0, at), b.subarray(at, at + 1 + (m.len % 32)), b.subarray(at));
    }
  }
  return b;
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const mutationArb: fc.Arbitrary<Mutation> = fc.record({ op: fc.nat(OPS - 1), at: fc.nat(4096), len: fc.nat(64), byte: fc.nat(255) });

/** fast-check inputs from a target's seeds: a seed mutated 0–6 times, or random bytes. */
export function inputs(seeds: readonly Uint8Array[]): fc.Arbitrary<Uint8Array> {
  const mutated = fc.tuple(fc.nat(seeds.length - 1), fc.array(mutationArb, { maxLength: 6 }))
    .map(([i, muts]) => mutate(seeds[i]!, muts, seeds));
  return fc.oneof({ weight: 4, arbitrary: mutated }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: 512 }) });
}

/** A small fast PRNG (mulberry32) for the fuzz script, where fast-check's generation would dominate. */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The script's input `i`: like `inputs`, one in five wholly random. */
export function nextInput(seeds: readonly Uint8Array[], rnd: () => number): Uint8Array {
  const int = (n: number): number => Math.floor(rnd() * n);
  if (int(5) === 0) {
    const b = new Uint8Array(int(513));
    for (let i = 0; i < b.length; i++) b[i] = int(256);
    return b;
  }
  const muts: Mutation[] = [];
  for (let k = int(7); k > 0; k--) muts.push({ op: int(OPS), at: int(4097), len: int(65), byte: int(256) });
  return mutate(seeds[int(seeds.length)]!, muts, seeds);
}
