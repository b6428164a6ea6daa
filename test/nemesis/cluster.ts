/**
 * The nemesis LAN: a client on host 0 and one greeter replica on each other
 * host of a virtual LAN (network namespaces, test/support/netns.ts), every
 * process driven over JSON lines (node.ts). Knows which processes are live
 * and when they all agree on the membership and the registry.
 */
import { fileURLToPath } from 'node:url';
import { VirtualLan, type VirtualHost } from '../support/netns.ts';
import { JsonLinesProcess, type Message } from '../support/json-lines.ts';

const NODE = fileURLToPath(new URL('./node.ts', import.meta.url));

export interface View { id: string; alive: string[]; greeter: string[]; heapUsed: number; rss: number }

export class Proc {
  id = '';
  /** False once killed or stopped for good; a SIGSTOPped process is still live (its peers must take it back). */
  live = true;
  readonly host: VirtualHost;
  readonly role: 'client' | 'replica';
  readonly p: JsonLinesProcess;

  constructor(host: VirtualHost, role: 'client' | 'replica', p: JsonLinesProcess) {
    this.host = host;
    this.role = role;
    this.p = p;
  }

  /** Its answer to {cmd:'view'}, or undefined when it does not answer in time (stopped). */
  async view(gc = false, timeoutMs = 2000): Promise<View | undefined> {
    const from = this.p.messages.length;
    this.p.send({ cmd: 'view', gc });
    try {
      return (await this.p.waitFor((m) => m.view !== undefined, timeoutMs, 'view', from)).view as View;
    } catch {
      return undefined;
    }
  }

  /** Every queue message number it handled. */
  handled(): number[] {
    return this.p.all((m: Message) => typeof m.got === 'number').map((m) => m.got as number);
  }
}

export class NemesisCluster {
  readonly replicas: Proc[] = [];
  /** Every replica process ever started (killed ones too: what they handled counts). */
  readonly everyReplica: Proc[] = [];
  client!: Proc;

  readonly lan: VirtualLan;
  private readonly opts: { inFlight: number; callsPerSec: number; publishEveryMs: number };

  private constructor(lan: VirtualLan, opts: { inFlight: number; callsPerSec: number; publishEveryMs: number }) {
    this.lan = lan;
    this.opts = opts;
  }

  static async create(replicas: number, opts: { inFlight: number; callsPerSec: number; publishEveryMs: number }): Promise<NemesisCluster> {
    const lan = await VirtualLan.create({ hosts: replicas + 1, prefix: 'mmnemesis' });
    const c = new NemesisCluster(lan, opts);
    try {
      c.client = await c.spawn(lan.host(0), 'client');
      for (let i = 1; i <= replicas; i++) c.replicas.push(await c.spawn(lan.host(i), 'replica'));
    } catch (err) {
      await lan.destroy();
      throw err;
    }
    return c;
  }

  get seeds(): string[] {
    return this.lan.hosts.map((h) => `${h.address}:7946`);
  }

  private async spawn(host: VirtualHost, role: 'client' | 'replica'): Promise<Proc> {
    const spec = { role, host: host.address, seeds: this.seeds, inFlight: this.opts.inFlight, callsPerSec: this.opts.callsPerSec, publishEveryMs: this.opts.publishEveryMs };
    const child = host.spawn(process.execPath, ['--expose-gc', '--import', 'tsx', NODE, JSON.stringify(spec)]);
    const p = new JsonLinesProcess(child, `${role}@${host.name}`);
    const proc = new Proc(host, role, p);
    proc.id = (await p.waitFor((m) => m.started === true, 30_000, `${proc.p.label} start`)).id as string;
    if (role === 'replica') this.everyReplica.push(proc);
    return proc;
  }

  /** A new replica process in place of `old` (on the same host). */
  async replace(old: Proc): Promise<Proc> {
    old.live = false;
    const fresh = await this.spawn(old.host, 'replica');
    this.replicas[this.replicas.indexOf(old)] = fresh;
    return fresh;
  }

  live(): Proc[] {
    return [this.client, ...this.replicas.filter((r) => r.live)];
  }

  /**
   * Whether the membership is one: every live process answers, sees exactly
   * the live processes alive, and lists exactly the live replicas as greeter nodes.
   */
  async agreed(): Promise<boolean> {
    const live = this.live();
    const ids = live.map((p) => p.id).sort().join();
    const greeter = live.filter((p) => p.role === 'replica').map((p) => p.id).sort().join();
    const views = await Promise.all(live.map((p) => p.view()));
    return views.every((v) => v !== undefined && v.alive.join() === ids && v.greeter.join() === greeter);
  }

  /** Ms until {@link agreed} holds (polled every 100 ms), or undefined past `capMs`. */
  async untilAgreed(capMs: number): Promise<number | undefined> {
    const t0 = performance.now();
    while (performance.now() - t0 < capMs) {
      if (await this.agreed()) return Math.round(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 100));
    }
    return undefined;
  }

  async destroy(): Promise<void> {
    await this.lan.destroy();
  }
}
