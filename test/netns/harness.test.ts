// The virtual-LAN harness itself: layout and isolation, TCP/UDP/multicast
// between hosts, partitions, loss, cleanup. Where the machine cannot create
// network namespaces (no root, no `nft`...) every test is skipped with the
// reason; MICROMESH_REQUIRE_NETNS=1 (set by .ci/run) makes them fail with it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { JsonLinesProcess } from '../support/json-lines.ts';
import { VirtualLan, cleanupStale, netnsGate, run, type VirtualHost } from '../support/netns.ts';

/** Skips every test with the reason where virtual LANs cannot run, unless MICROMESH_REQUIRE_NETNS=1. */
const netns = await netnsGate();

// Plain node (type stripping) starts faster than through tsx; the probe imports only node: modules.
const PROBE = fileURLToPath(new URL('../support/netprobe.ts', import.meta.url));
const PREFIX = 'mmharness';

let lan: VirtualLan;
let rootLinksBefore: string[];

const rootLinks = async (): Promise<string[]> => (await run('ip', ['-o', 'link', 'show'])).stdout
  .split('\n').filter(Boolean).map((l) => l.split(':')[1]!.trim().split('@')[0]!).sort();

/** Runs a probe to completion inside `h` and returns its JSON result line. */
async function probe(h: VirtualHost, args: string[]): Promise<Record<string, unknown>> {
  const r = await h.exec(process.execPath, [PROBE, ...args], { allowFailure: true });
  const last = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(last) as Record<string, unknown>;
  } catch {
    throw new Error(`probe ${args.join(' ')} in ${h.name} printed ${JSON.stringify(r.stdout)}; stderr: ${r.stderr}`);
  }
}

function startProbe(h: VirtualHost, args: string[]): JsonLinesProcess {
  return new JsonLinesProcess(h.spawn(process.execPath, [PROBE, ...args]), `${h.name} ${args[0]}`);
}

/** Whether `from` reaches `to`'s echo server on `port` over TCP within `timeoutMs`. */
async function tcpReaches(from: VirtualHost, to: VirtualHost, port: number, timeoutMs = 1500): Promise<boolean> {
  return (await probe(from, ['tcp-connect', to.address, String(port), String(timeoutMs)])).ok === true;
}

/** Whether `from` reaches `to` within `withinMs`, trying again after each failed attempt. */
async function eventuallyReaches(from: VirtualHost, to: VirtualHost, port: number, withinMs = 15_000): Promise<boolean> {
  const end = Date.now() + withinMs;
  while (Date.now() < end) {
    if (await tcpReaches(from, to, port, Math.min(3000, Math.max(100, end - Date.now())))) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

/** Datagrams each of `to` receives of `count` sent by `from` (to a multicast `group`, or unicast to `to[0]`). */
async function udpDelivered(from: VirtualHost, to: VirtualHost[], count: number, port: number, group?: string): Promise<number[]> {
  const sinks = to.map((h) => startProbe(h, ['udp-sink', String(port), String(count), '300', ...(group !== undefined ? [group] : [])]));
  await Promise.all(sinks.map((s) => s.waitFor((m) => m.ready === true, 10_000, 'sink ready')));
  await probe(from, ['udp-send', group ?? to[0]!.address, String(port), String(count), '0']);
  for (const s of sinks) s.send({ done: true }); // sent: stragglers get 300 ms more
  const results = await Promise.all(sinks.map((s) => s.waitFor((m) => typeof m.received === 'number', 10_000, 'sink count')));
  return results.map((m) => m.received as number);
}

before(async () => {
  if (!netns.ready()) return; // skipped here: build nothing
  rootLinksBefore = await rootLinks();
  lan = await VirtualLan.create({ hosts: 4, prefix: PREFIX });
});

after(async () => {
  await lan?.destroy();
});

test('netns harness: hosts get 198.18.0.0/15 addresses, no route out, and the root namespace is untouched', netns, async () => {
  assert.deepEqual(lan.hosts.map((h) => h.address), ['198.18.0.1', '198.18.0.2', '198.18.0.3', '198.18.0.4']);
  for (const h of lan.hosts) {
    const links = (await h.exec('ip', ['-o', 'link', 'show'])).stdout;
    assert.deepEqual(links.split('\n').filter(Boolean).map((l) => l.split(':')[1]!.trim().split('@')[0]), ['lo', 'eth0']);
    const routes = (await h.exec('ip', ['route', 'show', 'table', 'all'])).stdout;
    assert.doesNotMatch(routes, /^default/m, `${h.name} must have no default route`);
    const out = await h.exec('ip', ['route', 'get', '1.1.1.1'], { allowFailure: true });
    assert.notEqual(out.code, 0, `${h.name} must not route to the outside: ${out.stdout}`);
    assert.match(out.stderr, /unreachable/i);
  }
  // The switch holds only bridges and their veth ports: no physical device, no link to the root namespace.
  const sw = (await run('ip', ['-n', lan.switchNetns, '-o', '-d', 'link', 'show'])).stdout.split('\n').filter(Boolean);
  for (const line of sw) assert.match(line, /: lo:|: br\d+:|: h\d+l\d+@.*link-netns mmharness-.*veth|bridge /, line);
  assert.doesNotMatch(sw.join('\n'), /link-netns (?!mmharness-)/);
  assert.deepEqual(await rootLinks(), rootLinksBefore, 'no interface may appear in the root namespace');
});

test('netns harness: TCP, UDP and multicast cross the LAN', netns, async () => {
  const server = startProbe(lan.host(0), ['tcp-server', '7000']);
  await server.waitFor((m) => m.listening === 7000, 10_000, 'listening');
  for (const h of lan.hosts.slice(1)) assert.equal(await tcpReaches(h, lan.host(0), 7000), true, `${h.name} → h0 over TCP`);
  assert.deepEqual(await udpDelivered(lan.host(1), [lan.host(2)], 50, 7001), [50]);
  assert.deepEqual(await udpDelivered(lan.host(0), lan.hosts.slice(1), 20, 7002, '224.0.0.251'), [20, 20, 20]);
  server.child.kill();
});

test('netns harness: a partition blocks unicast and multicast between groups, heal restores them', netns, async () => {
  const [h0, h1, h2, h3] = lan.hosts as [VirtualHost, VirtualHost, VirtualHost, VirtualHost];
  const servers = [h1, h2].map((h) => startProbe(h, ['tcp-server', '7010']));
  await Promise.all(servers.map((s) => s.waitFor((m) => m.listening === 7010, 10_000, 'listening')));
  await lan.partition([[h0, h1], [h2, h3]]);
  assert.match(await lan.rules(), /drop/);
  assert.equal(await tcpReaches(h0, h1, 7010), true, 'same side');
  assert.equal(await tcpReaches(h0, h2, 7010, 800), false, 'across the partition');
  assert.equal(await tcpReaches(h3, h1, 7010, 800), false, 'across the partition');
  assert.deepEqual(await udpDelivered(h0, [h1, h2, h3], 10, 7011, '224.0.0.251'), [10, 0, 0]);
  await lan.heal();
  // Healing is eventual: a neighbour (ARP) entry the partition left failing
  // can fail the first connect at once (EHOSTUNREACH) until the kernel
  // probes again, so reachability is retried until a deadline.
  assert.equal(await eventuallyReaches(h0, h2, 7010), true, 'healed');
  assert.equal(await eventuallyReaches(h3, h1, 7010), true, 'healed');
  assert.deepEqual(await udpDelivered(h0, [h1, h2, h3], 10, 7012, '224.0.0.251'), [10, 10, 10]);
  for (const s of servers) s.child.kill();
});

test('netns harness: loss drops about the given share of frames', netns, async () => {
  const [h0, h1] = lan.hosts as [VirtualHost, VirtualHost];
  assert.deepEqual(await udpDelivered(h0, [h1], 20, 7020), [20], 'warm-up (ARP) without loss');
  await lan.setLoss(h1, 0.3, 'in');
  const [got] = await udpDelivered(h0, [h1], 2000, 7021);
  // Binomial(2000, 0.7): mean 1400, sd ≈ 20.5; ±150 is over 7 sd.
  assert.ok(got! > 1250 && got! < 1550, `received ${got} of 2000 with 30% loss`);
  await lan.setLoss(h1, 1, 'in');
  assert.deepEqual(await udpDelivered(h0, [h1], 50, 7023), [0], 'a share of 1 drops everything');
  await lan.setLoss(h1, 0);
  assert.deepEqual(await udpDelivered(h0, [h1], 200, 7022), [200], 'loss removed');
});

test('netns harness: stale namespaces of dead runs are cleaned up, live ones kept', netns, async () => {
  const dead = await run(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  const stale = `${PREFIX}-${dead.stdout}-0-h0`;
  await run('ip', ['netns', 'add', stale]);
  const removed = await cleanupStale(PREFIX);
  assert.deepEqual(removed, [stale]);
  const names = (await run('ip', ['netns', 'list'])).stdout;
  assert.doesNotMatch(names, new RegExp(stale));
  assert.match(names, new RegExp(lan.switchNetns), 'our own LAN survives');
});

test('netns harness: destroy removes every namespace and kills the processes started in them', netns, async () => {
  const extra = await VirtualLan.create({ hosts: [{ lans: [0, 1] }, { lans: [1] }], prefix: PREFIX });
  assert.deepEqual(extra.host(0).interfaces.map((i) => [i.name, i.address]), [['eth0', '198.18.0.1'], ['eth1', '198.18.1.1']]);
  assert.equal(extra.host(1).address, '198.18.1.2');
  const sleeper = extra.host(1).spawn('sleep', ['60']);
  await extra.destroy();
  assert.notEqual(sleeper.signalCode ?? sleeper.exitCode, null);
  const names = (await run('ip', ['netns', 'list'])).stdout;
  assert.doesNotMatch(names, new RegExp(`${extra.id}-`));
  await extra.destroy(); // idempotent
});
