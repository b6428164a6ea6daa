import { useEffect, useState } from 'preact/hooks';
import type { LiveBatch, LogRow, MemberRow, MeshSnapshot } from '../model.ts';
import { readSse } from './api.ts';

/**
 * The live mesh, kept from `/api/live`: a snapshot, then batches of changed
 * members, log lines and registry bumps. Views re-render at most once per
 * animation frame however many batches arrive (50 changes a second stay
 * one render per frame).
 */
export class LiveStore {
  members = new Map<string, MemberRow>();
  events: LogRow[] = [];
  localId: string | undefined;
  /** Bumped when the registry changed: service lists refetch. */
  servicesVersion = 0;
  connected = false;
  /** Bumped on every applied change; views compare it. */
  version = 0;
  private readonly listeners = new Set<() => void>();
  private frame = 0;

  /** Follows the stream until `signal` aborts, reconnecting after a pause when it breaks. */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        await readSse('api/live', (e) => {
          if (e.event === 'snapshot') this.reset(JSON.parse(e.data) as MeshSnapshot);
          else if (e.event === 'batch') this.apply(JSON.parse(e.data) as LiveBatch);
        }, signal);
      } catch {
        // Reconnect below.
      }
      this.connected = false;
      this.changed();
      await new Promise((r) => setTimeout(r, 1500));
    }
  }

  private reset(s: MeshSnapshot): void {
    this.members = new Map(s.members.map((m) => [m.id, m]));
    this.events = s.events;
    this.localId = s.localId;
    this.servicesVersion = s.servicesVersion;
    this.connected = true;
    this.changed();
  }

  private apply(b: LiveBatch): void {
    for (const m of b.members ?? []) this.members.set(m.id, m);
    for (const id of b.removed ?? []) this.members.delete(id);
    if (b.events !== undefined) {
      this.events = this.events.concat(b.events);
      if (this.events.length > 500) this.events = this.events.slice(-500);
    }
    if (b.services !== undefined) this.servicesVersion = b.services;
    this.changed();
  }

  private changed(): void {
    this.version++;
    if (this.frame !== 0) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      for (const l of this.listeners) l();
    });
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** Re-renders the calling component when the store changes; returns the store's version. */
export function useLive(store: LiveStore): number {
  const [, set] = useState(0);
  useEffect(() => store.subscribe(() => set(store.version)), [store]);
  return store.version;
}
