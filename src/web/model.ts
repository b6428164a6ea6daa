import type { Clock, Logger, Member, MemberState, SwimEvent, TimerHandle } from '../index.ts';
import { memberServices, type MeshSource } from './source.ts';

/** A member as the mesh page shows it. */
export interface MemberRow {
  id: string;
  address: string;
  state: MemberState;
  incarnation: number;
  /** Services its record lists (the last ones known, for dead and left members). */
  services: string[];
  /** When this node saw its state change, wall-clock ms. */
  changedAt: number;
  local: boolean;
}

/** One line of the event log. `refuted`: a suspect proved alive; `recovered`: a dead member came back. */
export interface LogRow {
  seq: number;
  at: number;
  type: 'join' | 'suspect' | 'refuted' | 'recovered' | 'dead' | 'leave' | 'conflict';
  member: string;
  address: string;
  incarnation: number;
}

/** What the live stream sends: changed rows, reaped members, new log lines, and a bump when the registry changed. */
export interface LiveBatch {
  members?: MemberRow[];
  removed?: string[];
  events?: LogRow[];
  services?: number;
}

export interface MeshSnapshot {
  localId: string | undefined;
  members: MemberRow[];
  events: LogRow[];
  servicesVersion: number;
}

export interface MeshModelOptions {
  source: MeshSource;
  clock: Clock;
  logger: Logger;
  /** Log lines kept. Default 500. */
  logSize?: number;
  /** Changes are sent in batches this often, ms (50 changes a second become 10 messages). Default 100. */
  flushMs?: number;
  /** Rows are checked against the source this often (records fetched late, reaped members), ms. Default 2000. */
  reconcileMs?: number;
}

/**
 * The dashboard's live view of the mesh: member rows kept from SWIM's
 * events, an event log, and batched changes for the live streams. Services
 * per member come from the records; a dead member keeps the ones it last had.
 */
export class MeshModel {
  private readonly o: Required<Omit<MeshModelOptions, 'logger'>> & { logger: Logger };
  private readonly rows = new Map<string, MemberRow>();
  private readonly log: LogRow[] = [];
  private seq = 0;
  private servicesVersion = 0;
  private pending: { members: Set<string>; removed: Set<string>; events: LogRow[]; services: boolean } = emptyPending();
  private readonly listeners = new Set<(batch: LiveBatch) => void>();
  private flushTimer: TimerHandle | undefined;
  private reconcileTimer: TimerHandle | undefined;
  private unsubscribe: (() => void) | undefined;
  private watch: AbortController | undefined;

  constructor(o: MeshModelOptions) {
    this.o = { logSize: 500, flushMs: 100, reconcileMs: 2000, ...o };
  }

  start(): void {
    if (this.unsubscribe !== undefined) return;
    for (const m of this.o.source.members()) this.rows.set(m.id, this.toRow(m));
    this.unsubscribe = this.o.source.onEvent((e) => this.onEvent(e));
    this.watch = new AbortController();
    void this.follow(this.watch.signal);
    const tick = (): void => {
      try {
        this.reconcile();
      } catch (err) {
        // A timer callback must not throw (it would end the process): a bad peer record is reported, and skipped next time too.
        this.o.logger.warn('dashboard: could not read the members', { error: String(err) });
      }
      this.reconcileTimer = this.o.clock.setTimeout(tick, this.o.reconcileMs);
    };
    this.reconcileTimer = this.o.clock.setTimeout(tick, this.o.reconcileMs);
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.watch?.abort();
    this.o.clock.clearTimeout(this.flushTimer);
    this.o.clock.clearTimeout(this.reconcileTimer);
    this.listeners.clear();
  }

  /** Bumped on every registry change this model has seen. */
  get registryVersion(): number {
    return this.servicesVersion;
  }

  snapshot(): MeshSnapshot {
    return { localId: this.o.source.localId, members: [...this.rows.values()], events: [...this.log], servicesVersion: this.servicesVersion };
  }

  /** Receives every batch of changes until the returned function is called. */
  subscribe(listener: (batch: LiveBatch) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private onEvent(e: SwimEvent): void {
    const before = this.rows.get(e.member.id);
    this.rows.set(e.member.id, this.toRow(e.member, before));
    this.changed(e.member.id);
    if (e.type === 'update') return;
    const type = e.type === 'alive' ? (before?.state === 'dead' || before?.state === 'left' ? 'recovered' : 'refuted') : e.type;
    const row: LogRow = { seq: ++this.seq, at: this.o.clock.wallTime(), type, member: e.member.id, address: e.member.address, incarnation: e.member.incarnation };
    this.log.push(row);
    if (this.log.length > this.o.logSize) this.log.splice(0, this.log.length - this.o.logSize);
    this.pending.events.push(row);
    this.schedule();
  }

  /** Re-reads every member: records that arrived after their SWIM event, and members SWIM reaped. */
  private reconcile(): void {
    const seen = new Set<string>();
    for (const m of this.o.source.members()) {
      seen.add(m.id);
      const before = this.rows.get(m.id);
      const row = this.toRow(m, before);
      if (before === undefined || !sameRow(before, row)) {
        this.rows.set(m.id, row);
        this.changed(m.id);
      }
    }
    for (const id of this.rows.keys()) {
      if (seen.has(id)) continue;
      this.rows.delete(id);
      this.pending.members.delete(id);
      this.pending.removed.add(id);
      this.schedule();
    }
  }

  private async follow(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        for await (const _ of this.o.source.registry.watch({ signal })) {
          this.servicesVersion++;
          this.pending.services = true;
          this.schedule();
        }
      } catch (err) {
        if (signal.aborted) return;
        this.o.logger.warn('dashboard: registry watch ended; following again', { error: String(err) });
      }
      if (signal.aborted) return;
      // A registry that cannot watch must not make this spin.
      await new Promise<void>((resolve) => this.o.clock.setTimeout(resolve, 1000));
    }
  }

  private changedIfServicesMoved(id: string): void {
    const row = this.rows.get(id);
    if (row === undefined || (row.state !== 'alive' && row.state !== 'suspect')) return;
    const services = memberServices(this.o.source.record(id));
    if (services.join() === row.services.join()) return;
    this.rows.set(id, { ...row, services });
    this.changed(id);
  }

  private toRow(m: Member, before?: MemberRow): MemberRow {
    const live = m.state === 'alive' || m.state === 'suspect';
    const services = live ? memberServices(this.o.source.record(m.id)) : (before?.services ?? []);
    const c = this.o.clock;
    // Converted once per state: converting again would drift by the ms that passed in between.
    const same = before !== undefined && before.state === m.state && before.incarnation === m.incarnation;
    return {
      id: m.id, address: m.address, state: m.state, incarnation: m.incarnation, services,
      changedAt: same ? before.changedAt : Math.round(c.wallTime() - (c.now() - m.stateChangedAtMs)),
      local: m.id === this.o.source.localId,
    };
  }

  private changed(id: string): void {
    this.pending.removed.delete(id);
    this.pending.members.add(id);
    this.schedule();
  }

  private schedule(): void {
    if (this.flushTimer !== undefined) return;
    this.flushTimer = this.o.clock.setTimeout(() => this.flush(), this.o.flushMs);
  }

  private flush(): void {
    this.flushTimer = undefined;
    // A registry change is also a change of some member's services: checked once per batch, not per event.
    if (this.pending.services) for (const id of this.rows.keys()) this.changedIfServicesMoved(id);
    const p = this.pending;
    this.pending = emptyPending();
    const batch: LiveBatch = {};
    const members = [...p.members].map((id) => this.rows.get(id)).filter((r): r is MemberRow => r !== undefined);
    if (members.length > 0) batch.members = members;
    if (p.removed.size > 0) batch.removed = [...p.removed];
    if (p.events.length > 0) batch.events = p.events;
    if (p.services) batch.services = this.servicesVersion;
    if (Object.keys(batch).length === 0) return;
    for (const l of this.listeners) {
      try {
        l(batch);
      } catch (err) {
        this.o.logger.warn('dashboard: a live listener failed', { error: String(err) });
      }
    }
  }
}

function emptyPending(): { members: Set<string>; removed: Set<string>; events: LogRow[]; services: boolean } {
  return { members: new Set(), removed: new Set(), events: [], services: false };
}

function sameRow(a: MemberRow, b: MemberRow): boolean {
  return a.state === b.state && a.incarnation === b.incarnation && a.address === b.address && a.changedAt === b.changedAt && a.services.join() === b.services.join();
}
