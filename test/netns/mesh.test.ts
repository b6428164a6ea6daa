// The mesh on a virtual LAN (network namespaces, see docs/netns-testing.md):
// discovery by mDNS alone, calls across hosts, SIGKILL, a partition longer
// than the dead-member reap time then heal, and strangers that never merge.
import { after, afterEach, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualLan, netnsGate, type VirtualHost } from '../support/netns.ts';
import { JsonLinesProcess } from '../support/json-lines.ts';
import { CLI, cli, cliJson } from '../support/cli.ts';

/** Skips every test with the reason where virtual LANs cannot run, unless MICROMESH_REQUIRE_NETNS=1. */
const netns = await netnsGate();

// Short timers: suspicion 0.6–3.6 s, dead members reaped after 2 s, re-join every 2 s, mDNS browse every ~1 s.
const SWIM = JSON.stringify({ probeIntervalMs: 200, probeTimeoutMs: 100, gossipIntervalMs: 50, deadReapMs: 2000, gossipToTheDeadMs: 1000, pushPullIntervalMs: 2000 });
const TUNING = ['--profile', 'local', '--swim', SWIM, '--rejoin-ms', '2000', '--mdns-browse-ms', '1000'];

let lan: VirtualLan;
before(async () => {
  if (!netns.ready()) return; // skipped here: build nothing
  lan = await VirtualLan.create({ hosts: 5, prefix: 'mmmesh' });
});
after(() => lan?.destroy());
afterEach(() => stopAll());

interface Peer { host: VirtualHost; p: JsonLinesProcess; id: string; gossip: string }
interface Member { id: string; state: string }
interface Version { nodes: { id: string; address: string }[] }

/** Peers started by the running test; stopped when it ends, pass or fail. */
const running: Peer[] = [];
async function stopAll(): Promise<void> {
  const ps = running.splice(0);
  for (const x of ps) x.p.child.kill('SIGTERM');
  await Promise.all(ps.map((x) => x.p.exited));
}

async function runPeer(host: VirtualHost, global: string[] = []): Promise<Peer> {
  const p = new JsonLinesProcess(host.spawn(process.execPath, [CLI, '--interface', 'eth0', ...global, 'run', '--demo', ...TUNING]), host.name);
  running.push({ host, p, id: '', gossip: '' });
  const m = await p.waitFor((x) => typeof x.gossip === 'string', 20_000, `${host.name} start`);
  const peer = { host, p, id: m.id as string, gossip: m.gossip as string };
  running[running.findIndex((x) => x.p === p)] = peer;
  return peer;
}

/** A member's own view, asked inside its namespace through its gossip address (no mDNS). */
const viewOf = (x: Peer, args: string[], global: string[] = []) => cliJson<unknown>(['--no-mdns', '--join', x.gossip, ...global, ...args], { netns: x.host.netns });

async function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean, what: string, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn().catch((e: unknown) => e as T);
    if (ok(v)) return v;
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}; last: ${v instanceof Error ? v.message : JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

const liveIds = (ms: unknown) => (Array.isArray(ms) ? (ms as Member[]).filter((m) => m.state === 'alive' || m.state === 'suspect').map((m) => m.id).sort() : []);
const greeterNodes = (v: unknown) => (Array.isArray(v) ? (v as Version[]).flatMap((x) => x.nodes.map((n) => n.id)).sort() : []);

test('mDNS alone forms one mesh; calls cross hosts; a SIGKILLed node leaves every registry', netns, async () => {
  const [h0, h1, h2, h3] = lan.hosts;
  const peers = [await runPeer(h0!), await runPeer(h1!), await runPeer(h2!)];
  const all = peers.map((x) => x.id).sort();
  for (const x of peers) await until(() => viewOf(x, ['members']), (m) => liveIds(m).join() === all.join(), `${x.host.name} sees all three by mDNS`);
  // h3 runs no node: its client commands find the mesh by mDNS (browse only).
  const call = await cli(['--interface', 'eth0', 'call', 'greeter', 'Greeter.Hello', '{"name":"lan"}'], { netns: h3!.netns });
  assert.equal(call.code, 0, call.stderr);
  assert.deepEqual(JSON.parse(call.stdout), { msg: 'Hello lan' });
  const health = await cliJson<{ address: string; status: string }[]>(['--interface', 'eth0', 'health', 'greeter'], { netns: h3!.netns });
  assert.deepEqual(health.map((h) => h.address.split(':')[0]).sort(), ['198.18.0.1', '198.18.0.2', '198.18.0.3']);
  assert.ok(health.every((h) => h.status === 'ok'));
  peers[0]!.p.child.kill('SIGKILL');
  const rest = [peers[1]!.id, peers[2]!.id].sort();
  for (const x of peers.slice(1)) await until(() => viewOf(x, ['service', 'greeter']), (v) => greeterNodes(v).join() === rest.join(), `${x.host.name} drops the killed node`);
  for (let i = 0; i < 3; i++) {
    const r = await cli(['--interface', 'eth0', 'call', 'greeter', 'Greeter.Hello', '{"name":"again"}'], { netns: h3!.netns });
    assert.equal(r.code, 0, r.stderr);
  }
});

test('a partition longer than the reap time, then heal: one mesh again, consistent registries', netns, async () => {
  const [h0, h1, h2, h3] = lan.hosts;
  const peers = [await runPeer(h0!), await runPeer(h1!), await runPeer(h2!), await runPeer(h3!)];
  const all = peers.map((x) => x.id).sort();
  for (const x of peers) await until(() => viewOf(x, ['members']), (m) => liveIds(m).join() === all.join(), `${x.host.name} sees everyone`);
  await lan.partition([[h0!, h1!], [h2!, h3!]]);
  const left = [peers[0]!.id, peers[1]!.id].sort();
  await until(() => viewOf(peers[0]!, ['service', 'greeter']), (v) => greeterNodes(v).join() === left.join(), 'h0 sees only its side');
  // Stay apart well past suspicion and reaping, so each side forgets the other.
  await new Promise((r) => setTimeout(r, 8000));
  const forgotten = (await viewOf(peers[0]!, ['members'])) as Member[];
  assert.ok(!forgotten.some((m) => m.id === peers[2]!.id), 'the other side was reaped from h0');
  await lan.heal();
  for (const x of peers) {
    await until(() => viewOf(x, ['members']), (m) => liveIds(m).join() === all.join(), `${x.host.name} rejoined everyone`);
    await until(() => viewOf(x, ['service', 'greeter']), (v) => greeterNodes(v).join() === all.join(), `${x.host.name} has every greeter`);
  }
});

test('nodes with another cluster name or gossip key never appear, even on the same LAN', netns, async () => {
  const [h0, h1, h2, h4] = [lan.hosts[0]!, lan.hosts[1]!, lan.hosts[2]!, lan.hosts[4]!];
  const key = (await cli(['keygen'])).stdout.trim();
  const main = [await runPeer(h0, ['--key', key]), await runPeer(h1, ['--key', key])];
  const strangers = [await runPeer(h2, ['--key', key, '--cluster', 'other']), await runPeer(h4, ['--key', Buffer.alloc(32, 9).toString('base64')])];
  const ids = main.map((x) => x.id).sort();
  await until(() => viewOf(main[0]!, ['members'], ['--key', key]), (m) => liveIds(m).join() === ids.join(), 'the keyed mesh forms');
  await new Promise((r) => setTimeout(r, 3000));
  for (const x of main) assert.deepEqual(liveIds(await viewOf(x, ['members'], ['--key', key])), ids);
  assert.equal(strangers.length, 2);
});
