// The micromesh command across real processes on 127.0.0.1 (mDNS off: seeds).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { JsonLinesProcess } from '../support/json-lines.ts';
import { CLI, cli, cliJson } from '../support/cli.ts';

const FAST = JSON.stringify({ probeIntervalMs: 200, probeTimeoutMs: 100, gossipIntervalMs: 50 });
const peers: JsonLinesProcess[] = [];
after(() => { for (const p of peers) p.child.kill('SIGKILL'); });

async function runPeer(extra: string[] = [], join?: string): Promise<{ p: JsonLinesProcess; gossip: string; id: string; address: string }> {
  const args = [CLI, '--no-mdns', '--interface', 'lo', ...(join ? ['--join', join] : []), ...extra, 'run', '--demo', '--profile', 'local', '--swim', FAST];
  const p = new JsonLinesProcess(spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] }), 'peer');
  peers.push(p);
  const m = await p.waitFor((x) => typeof x.gossip === 'string', 20_000, 'peer start');
  return { p, gossip: m.gossip as string, id: m.id as string, address: m.address as string };
}

async function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean, what: string, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn().catch((e: unknown) => e as T);
    if (ok(v)) return v;
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}; last: ${JSON.stringify(v instanceof Error ? v.message : v)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('--version prints the package version', async () => {
  const { version } = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  const r = await cli(['--version']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), version);
});

interface Member { id: string; state: string }
interface Svc { name: string; nodes: number }
interface Version { nodes: { id: string; address: string }[] }

test('run, services, service, members, call, stream, health; no ghost members; SIGKILL leaves every registry', async () => {
  const a = await runPeer();
  const b = await runPeer([], a.gossip);
  const c = await runPeer([], a.gossip);
  const via = (x: { gossip: string }) => ['--no-mdns', '--join', x.gossip];
  await until(() => cliJson<Svc[]>([...via(a), 'services']), (s) => Array.isArray(s) && s[0]?.nodes === 3, 'three greeter nodes');
  const versions = await cliJson<Version[]>([...via(b), 'service', 'greeter']);
  assert.deepEqual(versions[0]!.nodes.map((n) => n.id).sort(), [a.id, b.id, c.id].sort());
  const call = await cli([...via(c), 'call', 'greeter', 'Greeter.Hello', '{"name":"cli"}', '--metadata', 'trace=1']);
  assert.equal(call.code, 0, call.stderr);
  assert.deepEqual(JSON.parse(call.stdout), { msg: 'Hello cli' });
  const stream = await cli([...via(a), 'stream', 'greeter', 'Greeter.Stream', '{"name":"s","count":2}']);
  assert.deepEqual(stream.stdout.trim().split('\n').map((l) => JSON.parse(l)), [{ msg: 'Hello s #1' }, { msg: 'Hello s #2' }]);
  const health = await cliJson<{ status: string }[]>([...via(a), 'health', 'greeter']);
  assert.deepEqual(health.map((h) => h.status), ['ok', 'ok', 'ok']);
  // Seven client commands later, the mesh still has exactly its three members.
  const members = await cliJson<Member[]>([...via(b), 'members']);
  assert.deepEqual(members.map((m) => m.id).sort(), [a.id, b.id, c.id].sort());
  assert.ok(members.every((m) => m.state === 'alive'));
  // SIGKILL: the node leaves every survivor's registry; calls go to the others.
  c.p.child.kill('SIGKILL');
  for (const x of [a, b]) {
    await until(() => cliJson<Version[]>([...via(x), 'service', 'greeter']), (v) => Array.isArray(v) && v[0]?.nodes.length === 2, `greeter without the killed node, seen from ${x.id}`);
  }
  for (let i = 0; i < 3; i++) assert.equal((await cli([...via(a), 'call', 'greeter', 'Greeter.Hello', '{"name":"x"}'])).code, 0);
  const err = await cli([...via(a), 'call', 'nobody', 'X.Y']);
  assert.equal(err.code, 1);
  assert.match(err.stderr, /SERVICE_NOT_FOUND/);
});

test('nodes with another cluster name or gossip key never appear', async () => {
  const key = (await cli(['keygen'])).stdout.trim();
  const main = await runPeer(['--key', key]);
  await runPeer(['--key', key, '--cluster', 'other'], main.gossip);
  await runPeer(['--key', Buffer.alloc(32, 7).toString('base64')], main.gossip);
  await runPeer([], main.gossip); // no key at all
  await new Promise((r) => setTimeout(r, 2000));
  const members = await cliJson<Member[]>(['--no-mdns', '--key', key, '--join', main.gossip, 'members']);
  assert.deepEqual(members.map((m) => m.id), [main.id]);
  const wrong = await cli(['--no-mdns', '--join', main.gossip, 'members']);
  assert.equal(wrong.code, 1, 'a client without the key cannot read the mesh');
  assert.match(wrong.stderr, /NO_MESH_FOUND/);
});

test('publish and subscribe from the command line: broadcast, and a queue group splitting the work', async () => {
  const a = await runPeer();
  const sub = (args: string[]) => {
    const p = new JsonLinesProcess(spawn(process.execPath, [CLI, '--no-mdns', '--interface', 'lo', '--join', a.gossip, 'subscribe', ...args], { stdio: ['ignore', 'pipe', 'pipe'] }), 'sub');
    peers.push(p);
    return p;
  };
  const all = sub(['jobs.>']);
  const w1 = sub(['jobs.run', '--queue', 'workers']);
  const w2 = sub(['jobs.run', '--queue', 'workers']);
  // Subscriptions travel in membership records: wait until the mesh lists all three subscribers.
  await until(() => cliJson<Member[]>(['--no-mdns', '--join', a.gossip, 'members']), (m) => Array.isArray(m) && m.length === 4, 'subscribers joined');
  await until(async () => {
    const r = await cli(['--no-mdns', '--join', a.gossip, '--json', 'publish', 'jobs.ping', '{}']);
    return r.code === 0 && all.messages.length > 0;
  }, (ok) => ok, 'broadcast subscription visible');
  for (let n = 0; n < 6; n++) {
    const r = await cli(['--no-mdns', '--join', a.gossip, 'publish', 'jobs.run', JSON.stringify({ n }), '--metadata', `n=${n}`]);
    assert.equal(r.code, 0, r.stderr);
  }
  const ns = (p: JsonLinesProcess) => p.all((m) => m.topic === 'jobs.run').map((m) => (m.message as { n: number }).n);
  await until(async () => ns(w1).length + ns(w2).length, (k) => k === 6, 'queue group got all six');
  assert.deepEqual([...ns(w1), ...ns(w2)].sort(), [0, 1, 2, 3, 4, 5], 'each job handled once');
  await until(async () => ns(all), (k) => k.length === 6, 'broadcast subscriber got all six');
  assert.equal(all.all((m) => m.topic === 'jobs.run')[0]!.metadata && (all.all((m) => m.topic === 'jobs.run')[0]!.metadata as Record<string, string>).n, '0');
});

test('publish and subscribe with --broker gossip: each publish waits for the gossip subscribers its records list, broadcast and queue group', async () => {
  const a = await runPeer();
  const sub = (args: string[]) => {
    const p = new JsonLinesProcess(spawn(process.execPath, [CLI, '--no-mdns', '--interface', 'lo', '--join', a.gossip, 'subscribe', '--broker', 'gossip', ...args], { stdio: ['ignore', 'pipe', 'pipe'] }), 'sub');
    peers.push(p);
    return p;
  };
  const literal = sub(['news.>']); // gossip topic mm/news
  const wild = sub(['*.alert']); // mm/*
  const w1 = sub(['news.alert', '--queue', 'pagers']);
  const w2 = sub(['news.alert', '--queue', 'pagers']);
  const publish = (topic: string, body: unknown) =>
    cli(['--no-mdns', '--interface', 'lo', '--join', a.gossip, '--json', 'publish', '--broker', 'gossip', topic, JSON.stringify(body)]);
  // Until every subscriber's record lists its subscriptions (news.ping reaches only news.>, never counted below).
  await until(async () => {
    const r = await publish('news.ping', {});
    return r.code === 0 ? (JSON.parse(r.stdout) as { subscriberNodes: number }).subscriberNodes : 0;
  }, (k) => k === 4, 'four subscribing nodes in the records');
  // Each CLI publish is a fresh libp2p node: it must wait until gossipsub knows the subscribers, or the message is lost.
  for (let n = 0; n < 3; n++) {
    const r = await publish('news.alert', { n });
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { subscriberNodes: number }).subscriberNodes, 4);
  }
  const ns = (p: JsonLinesProcess) => p.all((m) => m.topic === 'news.alert').map((m) => (m.message as { n: number }).n).sort();
  await until(async () => [ns(literal), ns(wild)], ([l, w]) => l!.length === 3 && w!.length === 3, 'both broadcast subscribers got all three');
  await until(async () => ns(w1).length + ns(w2).length, (k) => k === 3, 'the queue group got all three');
  assert.deepEqual([...ns(w1), ...ns(w2)].sort(), [0, 1, 2], 'each handled once');
  assert.deepEqual(ns(literal), [0, 1, 2]);
  assert.deepEqual(ns(wild), [0, 1, 2], 'a leading-wildcard pattern, once each');
});
