// The mesh key/value store (service.kv) on a virtual LAN (network namespaces, see docs/netns-testing.md):
// five hosts, one node process each (test/netns/fixtures/kv-node.ts), joined by seeds. Concurrent writes
// converge; a partitioned node catches up after the heal, deletes included; a writer SIGKILLed right after
// its put resolved loses nothing; a node joining later gets everything; 10 % loss on every path still
// converges. Each test prints its measured convergence times as one JSON line (`# kv-netns {...}`).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualLan, netnsGate, type VirtualHost } from '../support/netns.ts';
import { JsonLinesProcess, type Message } from '../support/json-lines.ts';

/** Skips every test with the reason where virtual LANs cannot run, unless MICROMESH_REQUIRE_NETNS=1. */
const netns = await netnsGate();

const GOSSIP_PORT = 7946;
// Fast anti-entropy (a random peer every ~0.5 s) and short write timeouts, so a partition or a dead peer
// costs a test a second or two; fanout and writeCopies keep their defaults (3), the behaviour under test.
const KV = { antiEntropyIntervalMs: 500, writeTimeoutMs: 1500 };

class KvNode {
  private rid = 0;
  readonly host: VirtualHost;
  readonly p: JsonLinesProcess;
  /** When the test started the process, and when its service had started (Date.now()). */
  readonly spawnedAt: number;
  readonly startedAt: number;

  constructor(host: VirtualHost, p: JsonLinesProcess, spawnedAt: number, startedAt: number) {
    this.host = host;
    this.p = p;
    this.spawnedAt = spawnedAt;
    this.startedAt = startedAt;
  }

  get name(): string {
    return this.host.name;
  }

  /** Sends one command and waits for its answer. */
  ask(cmd: Message, ms = 10_000): Promise<Message> {
    const rid = ++this.rid;
    const from = this.p.messages.length;
    this.p.send({ ...cmd, rid });
    return this.p.waitFor((m) => m.rid === rid, ms, `${this.name} ${String(cmd.cmd)} answer`, from);
  }

  async list(prefix: string): Promise<Record<string, string>> {
    return (await this.ask({ cmd: 'list', prefix })).entries as Record<string, string>;
  }

  /** When this node last saw `key` change (a put or a delete), by its watch. */
  lastChange(key: string): { at: number; value: string | null } | undefined {
    const m = this.p.messages.findLast((x) => x.ev !== undefined && x.key === key);
    return m === undefined ? undefined : { at: m.at as number, value: m.ev === 'put' ? (m.value as string) : null };
  }
}

let lan: VirtualLan;
/** The live nodes, by host index (a killed one is removed). */
const nodes = new Map<number, KvNode>();

before(async () => {
  if (!netns.ready()) return; // skipped here: build nothing
  lan = await VirtualLan.create({ hosts: 5, prefix: 'mmkv' });
  const started = await Promise.all(lan.hosts.map((h) => startNode(h, GOSSIP_PORT)));
  started.forEach((n, i) => nodes.set(i, n));
  await meshFormed();
});
after(() => lan?.destroy());

async function startNode(host: VirtualHost, gossipPort: number): Promise<KvNode> {
  const seeds = lan.hosts.filter((h) => h !== host).map((h) => `${h.address}:${GOSSIP_PORT}`);
  const spec = { host: host.address, gossipPort, seeds, kv: KV };
  const spawnedAt = Date.now();
  const p = new JsonLinesProcess(host.spawnNode('test/netns/fixtures/kv-node.ts', [JSON.stringify(spec)]), host.name);
  const m = await p.waitFor((x) => x.started === true, 20_000, 'start');
  return new KvNode(host, p, spawnedAt, m.at as number);
}

const live = (): KvNode[] => [...nodes.values()];

/** Every live node sees every other one as a member. */
async function meshFormed(): Promise<void> {
  const n = live().length;
  for (const x of live()) await until(async () => (await x.ask({ cmd: 'status' })).peers, (p) => p === n - 1, `${x.name} sees ${n - 1} peers`);
}

async function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean, what: string, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}; last: ${JSON.stringify(v).slice(0, 2000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Waits until every node in `of` lists the same entries under `prefix` (and `expected`, when given); returns them. */
async function converged(prefix: string, of: KvNode[], expected?: Record<string, string>, ms?: number): Promise<Record<string, string>> {
  const views = await until(() => Promise.all(of.map((x) => x.list(prefix))), (vs) => {
    const first = JSON.stringify(vs[0]);
    return vs.every((v) => JSON.stringify(v) === first) && (expected === undefined || first === JSON.stringify(sorted(expected)));
  }, `${of.map((x) => x.name).join(',')} to agree on ${prefix}* ${expected === undefined ? '' : JSON.stringify(expected)}`, ms);
  return views[0]!;
}

const sorted = (o: Record<string, string>): Record<string, string> => Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));

/**
 * Convergence times of `keys`: from when the write that decided a key's final state resolved (its answer's
 * `at`) to when the last of `of` applied that state, by their watch events (`afterResolve`; negative: it was
 * everywhere before the write resolved), and from when that write was issued (`afterIssue`).
 */
function convergeMs(keys: string[], answerOf: (key: string) => Message, of: KvNode[]): { afterResolve: Summary; afterIssue: Summary } {
  const ms = keys.map((key) => {
    const last = of.map((x) => x.lastChange(key));
    assert.ok(last.every((c) => c !== undefined), `every node saw ${key} change`);
    const a = answerOf(key);
    const done = Math.max(...last.map((c) => c!.at)) - (a.at as number);
    return [done, done + (a.ms as number)] as const;
  });
  return { afterResolve: summary(ms.map((x) => x[0])), afterIssue: summary(ms.map((x) => x[1])) };
}

function report(scenario: string, figures: Record<string, unknown>): void {
  console.log(`# kv-netns ${JSON.stringify({ scenario, ...figures })}`);
}

interface Summary { n: number; p50: number; max: number }
function summary(ms: number[]): Summary {
  const s = [...ms].sort((a, b) => a - b);
  return { n: s.length, p50: s[Math.floor((s.length - 1) / 2)] ?? 0, max: s.at(-1) ?? 0 };
}

/** Puts on `node`; asserts the put resolved; returns its answer (`at`: when it resolved). */
async function put(node: KvNode, entries: [string, string][], kill = false): Promise<Message> {
  const r = await node.ask({ cmd: 'puts', entries, kill });
  assert.equal(r.ok, true, `${node.name} put ${entries.length} key(s): ${String(r.error)}`);
  return r;
}

test('concurrent writes to one key and writes to many keys converge on every node', netns, async () => {
  const all = live();
  // Every node writes the same key at once (a race), and ten keys of its own.
  const race = await Promise.all(all.map((x) => put(x, [['s1/race', `from-${x.name}`]])));
  const own = await Promise.all(all.map((x) => put(x, Array.from({ length: 10 }, (_, j) => [`s1/${x.name}/k${j}`, `${x.name}-${j}`]))));
  const expected: Record<string, string> = {};
  for (const x of all) for (let j = 0; j < 10; j++) expected[`s1/${x.name}/k${j}`] = `${x.name}-${j}`;
  const view = await converged('s1/', all);
  const winner = view['s1/race'];
  assert.ok(all.some((x) => winner === `from-${x.name}`), `the race ends with one of the written values, got ${winner}`);
  const { 's1/race': _race, ...rest } = view;
  assert.deepEqual(rest, sorted(expected));

  const answerOf = (key: string): Message => (key === 's1/race' ? race[all.findIndex((x) => winner === `from-${x.name}`)]!
    : own[all.findIndex((x) => key.startsWith(`s1/${x.name}/`))]!);
  report('concurrent-writes', {
    nodes: all.length, putMs: summary([...race, ...own].map((r) => r.ms as number)),
    raceConvergeMs: convergeMs(['s1/race'], answerOf, all).afterResolve.max, convergeMs: convergeMs(Object.keys(expected), answerOf, all),
  });
});

test('a node partitioned during writes catches up after the heal, deletes included', netns, async () => {
  const all = live();
  const cut = nodes.get(4)!;
  const [w1, w2] = [nodes.get(1)!, nodes.get(2)!];
  await put(w1, [['s2/gone', 'x'], ['s2/kept', 'k'], ['s2/changed', 'old'], ['s2/dir/a', 'a'], ['s2/dir/b', 'b']]);
  await converged('s2/', all, { 's2/gone': 'x', 's2/kept': 'k', 's2/changed': 'old', 's2/dir/a': 'a', 's2/dir/b': 'b' });

  await lan.partition([all.filter((x) => x !== cut).map((x) => x.host), [cut.host]]);
  const majority = all.filter((x) => x !== cut);
  // Writes on both sides at once. The cut node's put cannot get its copies (UNAVAILABLE after
  // writeTimeoutMs) unless it already declared the others dead; either way it keeps the value.
  const [minority, ...writes] = await Promise.all([
    cut.ask({ cmd: 'put', key: 's2/minority', value: 'm' }),
    w1.ask({ cmd: 'delete', key: 's2/gone' }),
    w2.ask({ cmd: 'delete', key: 's2/dir/', recurse: true }),
    w1.ask({ cmd: 'put', key: 's2/changed', value: 'new' }),
    w2.ask({ cmd: 'puts', entries: Array.from({ length: 10 }, (_, j) => [`s2/new/k${j}`, `n${j}`]) }),
  ]);
  for (const r of writes) assert.equal(r.ok, true, `a majority write succeeds during the partition: ${String(r.error)}`);
  assert.ok(minority.ok === true || minority.code === 'UNAVAILABLE', `the cut node's put resolves or fails UNAVAILABLE: ${JSON.stringify(minority)}`);
  const expected: Record<string, string> = { 's2/kept': 'k', 's2/changed': 'new', 's2/minority': 'm' };
  for (let j = 0; j < 10; j++) expected[`s2/new/k${j}`] = `n${j}`;
  const { 's2/minority': _m, ...majorityView } = expected;
  await converged('s2/', majority, majorityView);
  // The partition holds: the cut node still has the deleted keys and none of the new ones.
  const cutView = await cut.list('s2/');
  assert.equal(cutView['s2/gone'], 'x');
  assert.equal(cutView['s2/changed'], 'old');
  assert.equal(cutView['s2/new/k0'], undefined);
  // Stay apart a little longer: the cut node's peers suspect it, it suspects them.
  await new Promise((r) => setTimeout(r, 2000));

  const stats = async (): Promise<Record<string, number>> => (await cut.ask({ cmd: 'status' })).stats as Record<string, number>;
  const before = await stats();
  await lan.heal();
  const healedAt = Date.now();
  await converged('s2/', all, expected, 30_000);
  const afterHeal = await stats();
  const catchUp = Math.max(...[...Object.keys(expected), 's2/gone', 's2/dir/a', 's2/dir/b'].map((k) => cut.lastChange(k)!.at)) - healedAt;
  const minorityOut = Math.max(...majority.map((x) => x.lastChange('s2/minority')!.at)) - healedAt;
  await meshFormed();
  report('partition-heal', {
    partitionedWrites: writes.length, minorityPut: minority.ok === true ? 'ok' : minority.code,
    // How the cut node caught up: versions its own anti-entropy rounds fetched and pushed; versions peers sent it (their rounds' pushes, rumors).
    cutNodeAfterHeal: { fetched: afterHeal.fetched! - before.fetched!, pushed: afterHeal.pushed! - before.pushed!, received: afterHeal.received! - before.received! },
    cutNodeCaughtUpMsAfterHeal: catchUp, minorityWriteEverywhereMsAfterHeal: minorityOut, majorityPutMs: summary(writes.map((r) => r.ms as number)),
  });
});

test('a writer SIGKILLed right after its puts resolved loses nothing', netns, async () => {
  const writer = nodes.get(0)!;
  const keys = Array.from({ length: 20 }, (_, j) => `s4/k${j}`);
  // The fixture kills itself with SIGKILL as soon as it has printed that the puts resolved.
  const r = await writer.ask({ cmd: 'puts', entries: keys.map((k, j) => [k, `v${j}`]), kill: true });
  assert.equal(r.ok, true, `the puts resolved before the kill: ${String(r.error)}`);
  assert.equal((await writer.p.exited).signal, 'SIGKILL');
  nodes.delete(0);
  const rest = live();
  // Each put resolved once 3 nodes held it: at least 2 survivors hold every key, at once.
  const views = await Promise.all(rest.map((x) => x.list('s4/')));
  const checkedMs = Date.now() - (r.at as number);
  const holders = keys.map((k) => views.filter((v) => v[k] !== undefined).length);
  assert.ok(holders.every((h) => h >= 2), `every key on at least 2 survivors ${checkedMs} ms after the kill: ${holders.join(',')}`);
  const expected = Object.fromEntries(keys.map((k, j) => [k, `v${j}`]));
  await converged('s4/', rest, expected);
  report('writer-killed', {
    keys: keys.length, putMs: r.ms, survivorsHoldingRightAfterKill: summary(holders), checkedMsAfterResolve: checkedMs,
    convergeMs: convergeMs(keys, () => r, rest),
  });
});

test('a node joining later gets everything, and not what was deleted', netns, async () => {
  const h0 = lan.host(0);
  // A new node (new id, another gossip port) on the killed writer's host.
  const late = await startNode(h0, GOSSIP_PORT + 1);
  nodes.set(0, late);
  const ref = nodes.get(1)!;
  const everything = await ref.list('');
  assert.ok(Object.keys(everything).length >= 50, `the store holds the earlier tests' keys (${Object.keys(everything).length})`);
  const got = await converged('', [late, ref], everything);
  assert.equal(got['s2/gone'], undefined);
  assert.equal(got['s2/dir/a'], undefined);
  const doneAt = Math.max(...Object.keys(everything).map((k) => late.lastChange(k)!.at));
  await meshFormed();
  report('late-join', { keys: Object.keys(everything).length, msFromSpawnToEverything: doneAt - late.spawnedAt, msFromStartedToEverything: doneAt - late.startedAt });
});

test('with 10 % loss on every path, writes still converge on every node', netns, async () => {
  const all = live();
  // Every host's link drops 10 % of the frames each way: a frame crosses two links, so a host-to-host
  // path loses 19 % (and a TCP round trip about a third of the time).
  for (const h of lan.hosts) await lan.setLoss(h, 0.1, 'both');
  try {
    // Puts may fail UNAVAILABLE when copies time out under loss; the value is kept and must still spread.
    const race = await Promise.all(all.map((x) => x.ask({ cmd: 'put', key: 's5/race', value: `from-${x.name}` }, 20_000)));
    const own = await Promise.all(all.map((x) => x.ask({ cmd: 'puts', entries: Array.from({ length: 10 }, (_, j) => [`s5/${x.name}/k${j}`, `${x.name}-${j}`]) }, 20_000)));
    const del = await nodes.get(2)!.ask({ cmd: 'delete', key: 's5/h1/k0' }, 20_000);
    const expected: Record<string, string> = {};
    for (const x of all) for (let j = 0; j < 10; j++) expected[`s5/${x.name}/k${j}`] = `${x.name}-${j}`;
    // The delete may run before h1's put reached h2 (then it deletes nothing, and k0 stays).
    if (del.deleted === 1) delete expected['s5/h1/k0'];
    const view = await converged('s5/', all, undefined, 40_000);
    const winner = view['s5/race'];
    assert.ok(all.some((x) => winner === `from-${x.name}`), `the race ends with one of the written values, got ${winner}`);
    const { 's5/race': _race, ...rest } = view;
    assert.deepEqual(rest, sorted(expected));

    const answers = [...race, ...own, del];
    const answerOf = (key: string): Message => (key === 's5/race' ? race[all.findIndex((x) => winner === `from-${x.name}`)]!
      : own[all.findIndex((x) => key.startsWith(`s5/${x.name}/`))]!);
    report('loss-10pc', {
      nodes: all.length, writes: answers.length, failedWrites: answers.filter((r) => r.ok !== true).map((r) => r.code),
      putMs: summary(answers.map((r) => r.ms as number)), convergeMs: convergeMs([...Object.keys(expected), 's5/race'], answerOf, all),
    });
  } finally {
    for (const h of lan.hosts) await lan.setLoss(h, 0);
  }
});
