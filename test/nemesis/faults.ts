/**
 * The faults, applied one at a time to a loaded cluster. Each does its harm
 * and undoes it; `apply` resolves once the fault is over (the process
 * continued, the link up, the partition healed...), which is when the
 * runner starts timing how long the membership takes to be one again.
 */
import type { NemesisCluster, Proc } from './cluster.ts';

export interface Fault {
  name: string;
  /** What it does, for the table. */
  what: string;
  apply(c: NemesisCluster, holdMs: (ms: number) => number): Promise<{ notes?: Record<string, number | undefined> }>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** The replica on the last host: the usual victim. */
const victim = (c: NemesisCluster): Proc => c.replicas.at(-1)!;

async function exited(p: Proc): Promise<void> {
  await p.p.exited;
}

export const FAULTS: Fault[] = [
  {
    name: 'sigkill',
    what: 'SIGKILL one replica; a new process takes its place once the others agree it is gone',
    async apply(c) {
      const v = victim(c);
      v.p.child.kill('SIGKILL');
      await exited(v);
      v.live = false;
      const goneMs = await c.untilAgreed(60_000);
      await c.replace(v);
      return { notes: { goneAgreedMs: goneMs } };
    },
  },
  {
    name: 'sigstop',
    what: 'SIGSTOP one replica for 30 s, then SIGCONT',
    async apply(c, hold) {
      const v = victim(c);
      v.p.child.kill('SIGSTOP');
      await sleep(hold(30_000));
      v.p.child.kill('SIGCONT');
      return {};
    },
  },
  {
    name: 'link-down',
    what: "one replica host's link down (ip link set eth0 down) for 10 s",
    async apply(c, hold) {
      const h = victim(c).host;
      await h.exec('ip', ['link', 'set', 'eth0', 'down']);
      await sleep(hold(10_000));
      await h.exec('ip', ['link', 'set', 'eth0', 'up']);
      return {};
    },
  },
  {
    name: 'partition',
    what: 'client and one replica cut off from the other replicas (nftables) for 15 s, then healed',
    async apply(c, hold) {
      const [h0, h1] = [c.lan.host(0), c.lan.host(1)];
      await c.lan.partition([[h0, h1]]);
      await sleep(hold(15_000));
      await c.lan.heal();
      return {};
    },
  },
  ...[0.1, 0.3].map((share): Fault => ({
    name: `loss-${share * 100}`,
    what: `${share * 100} % of packets to and from one replica host dropped for 20 s`,
    async apply(c, hold) {
      const h = victim(c).host;
      await c.lan.setLoss(h, share);
      await sleep(hold(20_000));
      await c.lan.setLoss(h, 0);
      return {};
    },
  })),
  {
    name: 'rolling-restart',
    what: 'every replica in turn: SIGTERM (graceful stop), a new process, wait until the mesh agrees',
    async apply(c) {
      for (const old of [...c.replicas]) {
        old.p.child.kill('SIGTERM');
        await exited(old);
        old.live = false;
        await c.replace(old);
        await c.untilAgreed(60_000);
      }
      return {};
    },
  },
];
