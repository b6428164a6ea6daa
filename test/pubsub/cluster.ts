// Spawns peer processes around a Coordinator and waits for them to agree.
import { spawnTs, type Child } from '../support/process.ts';
import { Coordinator, type Report } from './coordinator.ts';

const PEER = new URL('./fixtures/peer.ts', import.meta.url).pathname;

export class Cluster {
  readonly coord = new Coordinator();
  readonly children = new Map<string, Child>();
  readonly kind: 'direct' | 'gossip';

  constructor(kind: 'direct' | 'gossip') {
    this.kind = kind;
  }

  async start(ids: string[]): Promise<void> {
    await this.coord.listen();
    await Promise.all(ids.map((id) => this.add(id)));
  }

  async add(id: string): Promise<void> {
    const child = spawnTs(PEER, [this.coord.address, id, this.kind]);
    this.children.set(id, child);
    await child.waitFor(new RegExp(`^ready ${id}$`), 30_000);
    // "ready" comes over stdout, the peer's hello over the coordinator socket: wait for the latter too.
    const start = performance.now();
    while (!this.coord.views().some((v) => v.id === id)) {
      if (performance.now() - start > 10_000) throw new Error(`peer ${id} never reached the coordinator`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  cmd(id: string, cmd: Record<string, unknown>): Promise<Report> {
    return this.coord.command(id, cmd);
  }

  /** SIGKILLs a peer; the coordinator tells the others it left when its connection drops. */
  async kill(id: string): Promise<void> {
    await this.children.get(id)!.kill('SIGKILL');
    this.children.delete(id);
  }

  /** Waits until every live peer sees every other's current record (and, for gossip, its gossip topics). */
  async settle(limitMs = 20_000): Promise<void> {
    const start = performance.now();
    for (;;) {
      if (await this.agreed()) return;
      if (performance.now() - start > limitMs) throw new Error('cluster did not settle');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  private async agreed(): Promise<boolean> {
    const views = this.coord.views();
    const ids = [...this.children.keys()];
    const first = await Promise.all(ids.map((id) => this.cmd(id, { cmd: 'view' })));
    const allTopics = [...new Set(first.flatMap((v) => (v.topics as string[] | undefined) ?? []))];
    const seen = this.kind === 'gossip' ? await Promise.all(ids.map((id) => this.cmd(id, { cmd: 'view', topics: allTopics }))) : first;
    for (let i = 0; i < ids.length; i++) {
      const versions = seen[i]!.versions as Record<string, number>;
      for (const v of views) if (v.id !== ids[i] && versions[v.id] !== v.version) return false;
      if (this.kind !== 'gossip') continue;
      const gossip = seen[i]!.gossip as Record<string, string[]>;
      for (let j = 0; j < ids.length; j++) {
        if (i === j) continue;
        for (const t of first[j]!.topics as string[]) if (!gossip[t]?.includes(first[j]!.peerId as string)) return false;
      }
    }
    return true;
  }

  /** Reports of kind `got` for subscription `label`. */
  got(label: string): Report[] {
    return this.coord.reports.filter((r) => r.t === 'got' && r.label === label);
  }

  async close(): Promise<void> {
    for (const c of this.children.values()) await c.kill('SIGKILL');
    await this.coord.close();
  }
}
