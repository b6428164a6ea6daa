/**
 * Hybrid logical clocks (Kulkarni et al., 2014): a timestamp that follows
 * wall time but never goes backwards and always orders a write after every
 * write its node has seen, even when clocks disagree. Ties between nodes
 * break on the node id, so every node orders any two writes the same way:
 * last writer wins converges.
 */

export interface Hlc {
  /** Wall-clock part, ms. */
  wallMs: number;
  /** Counter for events within the same ms (or when a peer's clock is ahead). */
  logical: number;
  /** The writing node's id. */
  node: string;
}

/** Orders two timestamps: negative when `a` is older. */
export function compareHlc(a: Hlc, b: Hlc): number {
  if (a.wallMs !== b.wallMs) return a.wallMs - b.wallMs;
  if (a.logical !== b.logical) return a.logical - b.logical;
  return a.node < b.node ? -1 : a.node > b.node ? 1 : 0;
}

/** One node's clock: `now()` for a local write, `observe()` for every remote timestamp seen. */
export class HybridClock {
  private wallMs = 0;
  private logical = 0;
  private readonly node: string;
  private readonly physical: () => number;

  constructor(node: string, physical: () => number) {
    this.node = node;
    this.physical = physical;
  }

  /** A timestamp above every one issued or observed here. */
  now(): Hlc {
    const pt = this.physical();
    if (pt > this.wallMs) {
      this.wallMs = pt;
      this.logical = 0;
    } else {
      this.logical++;
    }
    return { wallMs: this.wallMs, logical: this.logical, node: this.node };
  }

  /** Moves past a remote timestamp, so the next local write orders after it. */
  observe(remote: Hlc): void {
    if (remote.wallMs > this.wallMs || (remote.wallMs === this.wallMs && remote.logical > this.logical)) {
      this.wallMs = remote.wallMs;
      this.logical = remote.logical;
    }
  }
}
