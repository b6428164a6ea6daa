import { MeshError } from '../errors/index.ts';
import { silentLogger } from '../log/silent.ts';
import type { Logger } from '../log/types.ts';
import { withEntry } from './record.ts';
import type { MemberView, Membership, MembershipEvent, MembershipListener, RecordData } from './types.ts';

/**
 * An in-process membership "network": every node joined to the same
 * `MemoryMembershipNetwork` sees the others. Changes reach the other nodes
 * on the microtask queue (never synchronously inside `setLocal`), in order.
 * `crash(id)` and `leave(id)` let tests remove a node as a failure detector
 * would.
 */
export class MemoryMembershipNetwork {
  readonly nodes = new Map<string, MemoryMembership>();
  /** Where a listener that throws is reported (delivery goes on). Default silent. */
  readonly logger: Logger;

  constructor(opts: { logger?: Logger } = {}) {
    this.logger = opts.logger ?? silentLogger;
  }

  /** Creates and joins a node. */
  join(id: string, data: RecordData = {}): MemoryMembership {
    if (this.nodes.has(id)) throw new MeshError('CONFLICT', `member ${id} already joined`);
    const m = new MemoryMembership(this, id, data);
    this.nodes.set(id, m);
    for (const other of this.nodes.values()) if (other !== m) other.deliver({ type: 'join', member: m.local() });
    return m;
  }

  /** Removes a node as if it had been declared dead (or had left). */
  remove(id: string, reason: 'dead' | 'left'): void {
    const m = this.nodes.get(id);
    if (m === undefined) return;
    this.nodes.delete(id);
    m.detached = true;
    for (const other of this.nodes.values()) other.deliver({ type: 'leave', member: m.local(), reason });
  }

  broadcast(from: MemoryMembership): void {
    for (const other of this.nodes.values()) if (other !== from) other.deliver({ type: 'update', member: from.local() });
  }
}

export class MemoryMembership implements Membership {
  readonly localId: string;
  detached = false;
  /** Listener calls that threw (logged; delivery to the others went on). */
  listenerErrors = 0;
  /** Ids passed to reportUnreachable, for tests. */
  readonly unreachableReports: { id: string; refused: boolean }[] = [];
  private readonly net: MemoryMembershipNetwork;
  private record: MemberView;
  private readonly listeners = new Set<MembershipListener>();
  private readonly queue: MembershipEvent[] = [];
  private scheduled = false;
  /** Our view of the others: filled by delivered events, so it lags like a real one. */
  private readonly view = new Map<string, MemberView>();

  constructor(net: MemoryMembershipNetwork, id: string, data: RecordData) {
    this.net = net;
    this.localId = id;
    this.record = { id, version: 1, data: { ...data } };
    for (const other of net.nodes.values()) this.view.set(other.localId, other.local());
  }

  local(): MemberView {
    return this.record;
  }

  setLocal(key: string, value: unknown): void {
    this.record = withEntry(this.record, key, value);
    if (!this.detached) this.net.broadcast(this);
  }

  members(): MemberView[] {
    return [...this.view.values()];
  }

  member(id: string): MemberView | undefined {
    return this.view.get(id);
  }

  subscribe(listener: MembershipListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  reportUnreachable(id: string, refused: boolean): void {
    this.unreachableReports.push({ id, refused });
  }

  /** Leaves the network gracefully. */
  leave(): void {
    this.net.remove(this.localId, 'left');
  }

  deliver(ev: MembershipEvent): void {
    this.queue.push(ev);
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    while (this.queue.length > 0) {
      const ev = this.queue.shift()!;
      if (ev.type === 'leave') this.view.delete(ev.member.id);
      else this.view.set(ev.member.id, ev.member);
      for (const l of [...this.listeners]) {
        try {
          l(ev);
        } catch (err) {
          this.listenerErrors++;
          this.net.logger.warn('membership listener failed', { member: this.localId, error: String(err) });
        }
      }
    }
  }
}
