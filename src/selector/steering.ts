import type { Random } from '../clock/types.ts';
import type { Node } from '../registry/types.ts';

/**
 * What steers new calls besides ejections: nodes suspected (by SWIM, keyed
 * by node id, or by the RPC client's silence watch, keyed by address),
 * which calls avoid while another node is healthy; and nodes in slow start
 * (re-registered after they were gone, or no longer suspected), which get a
 * share of calls rising from 10 % to 100 % over `slowStartMs`, so a node
 * that comes back is not handed a full share before it has warmed up.
 */
export class Steering {
  readonly suspects = new Set<string>();
  /** Bumped on every change of `suspects`: eligibility memos built under an older value are stale. */
  gen = 0;
  /** Keys (id or address) in slow start, with when it began. */
  readonly warming = new Map<string, number>();
  private readonly slowStartMs: number;

  constructor(slowStartMs: number) {
    this.slowStartMs = slowStartMs;
  }

  suspect(key: string, suspected: boolean, now: number): void {
    if (suspected === this.suspects.has(key)) return;
    if (suspected) {
      this.suspects.add(key);
      this.warming.delete(key);
    } else {
      this.suspects.delete(key);
      if (this.slowStartMs > 0) this.warming.set(key, now);
    }
    this.gen++;
  }

  suspected(n: Node): boolean {
    return this.suspects.has(n.id) || this.suspects.has(n.address);
  }

  /** A new lookup: ids not in the previous one (re)appeared and start slow. */
  appeared(ids: ReadonlySet<string>, known: ReadonlySet<string>, now: number): void {
    if (this.slowStartMs === 0) return;
    for (const id of ids) if (!known.has(id)) this.warming.set(id, now);
  }

  /** Whether a pick of `n` stands: always unless it is warming, then with probability max(10 %, age / slowStartMs). */
  keeps(n: Node, now: number, random: Random): boolean {
    const since = this.warming.get(n.id) ?? this.warming.get(n.address);
    if (since === undefined) return true;
    const age = now - since;
    if (age >= this.slowStartMs) {
      this.warming.delete(n.id);
      this.warming.delete(n.address);
      return true;
    }
    return random.next() < Math.max(0.1, age / this.slowStartMs);
  }
}
