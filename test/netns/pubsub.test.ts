// Pubsub on the mesh across virtual-LAN hosts (network namespaces): broadcast,
// queue groups, SIGKILL of a consumer mid-stream, a late joiner, partition and heal.
import { after, afterEach, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { VirtualLan, netnsGate, type VirtualHost } from '../support/netns.ts';
import { JsonLinesProcess, type Message } from '../support/json-lines.ts';

/** Skips every test with the reason where virtual LANs cannot run, unless MICROMESH_REQUIRE_NETNS=1. */
const netns = await netnsGate();

const FIXTURE = fileURLToPath(new URL('./fixtures/pubsub-node.ts', import.meta.url));
let lan: VirtualLan;
const running: JsonLinesProcess[] = [];
before(async () => {
  if (!netns.ready()) return; // skipped here: build nothing
  lan = await VirtualLan.create({ hosts: 5, prefix: 'mmpubsub' });
});
after(() => lan?.destroy());
afterEach(async () => {
  const ps = running.splice(0);
  for (const p of ps) p.child.kill('SIGKILL');
  await Promise.all(ps.map((p) => p.exited));
});

async function node(h: VirtualHost, subscribe: { topic: string; queue?: string }[] = [], broker: 'direct' | 'gossip' = 'direct'): Promise<JsonLinesProcess> {
  const p = new JsonLinesProcess(h.spawnNode(FIXTURE, [JSON.stringify({ host: h.address, broker, subscribe })]), h.name);
  running.push(p);
  await p.waitFor((m) => m.started === true, 20_000, `${h.name} start`);
  return p;
}

const got = (p: JsonLinesProcess, topic: string, queue: string | null = null): number[] =>
  p.all((m: Message) => m.got === true && m.topic === topic && m.queue === queue).map((m) => m.n as number);

async function until(cond: () => boolean, what: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Publishes warm-up messages (numbered from 100000) until `ready()`: subscriptions propagate through membership records. */
async function warmUp(pub: JsonLinesProcess, topic: string, ready: () => boolean): Promise<void> {
  let n = 100_000;
  while (!ready()) {
    pub.send({ cmd: 'publish', topic, from: n++, count: 1 });
    await new Promise((r) => setTimeout(r, 300));
    if (n > 100_100) assert.fail('subscriptions never propagated');
  }
}

async function publish(pub: JsonLinesProcess, topic: string, from: number, count: number, gapMs = 0): Promise<void> {
  const before = pub.all((m) => m.published === true).length;
  pub.send({ cmd: 'publish', topic, from, count, gapMs });
  await pub.waitFor(() => pub.all((m) => m.published === true).length > before, 60_000, 'publish done');
}

const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);
const uniq = (xs: number[]) => [...new Set(xs)].sort((a, b) => a - b);

for (const broker of ['direct', 'gossip'] as const) {
  test(`${broker}: broadcast reaches every subscriber; a queue group handles each message once; a late joiner gets what follows`, netns, async () => {
    const [h0, h1, h2, h3, h4] = lan.hosts as VirtualHost[];
    const subs: JsonLinesProcess[] = [];
    for (const h of [h0!, h1!, h2!]) subs.push(await node(h, [{ topic: 'news.>' }, { topic: 'work.item', queue: 'workers' }], broker));
    const pub = await node(h3!, [], broker);
    await warmUp(pub, 'news.ping', () => subs.every((s) => got(s, 'news.ping').length > 0));
    await publish(pub, 'news.story', 0, 50);
    await publish(pub, 'work.item', 0, 60);
    await until(() => subs.every((s) => got(s, 'news.story').length === 50), 'every subscriber got all 50 stories');
    await until(() => subs.flatMap((s) => got(s, 'work.item', 'workers')).length >= 60, 'all 60 work items handled');
    const work = subs.flatMap((s) => got(s, 'work.item', 'workers'));
    assert.deepEqual(work.sort((a, b) => a - b), range(0, 60), 'each work item handled exactly once');
    const late = await node(h4!, [{ topic: 'news.>' }], broker);
    await warmUp(pub, 'news.ping', () => got(late, 'news.ping').length > 0);
    await publish(pub, 'news.story', 50, 20);
    await until(() => got(late, 'news.story').length === 20, 'the late joiner got the next 20');
    assert.deepEqual(got(late, 'news.story').sort((a, b) => a - b), range(50, 20));
  });
}

test('direct: SIGKILL of a queue consumer mid-stream loses no message', netns, async () => {
  const [h0, h1, h2, h3] = lan.hosts as VirtualHost[];
  const workers = [await node(h0!, [{ topic: 'job', queue: 'w' }]), await node(h1!, [{ topic: 'job', queue: 'w' }]), await node(h2!, [{ topic: 'job', queue: 'w' }])];
  const pub = await node(h3!);
  await warmUp(pub, 'job', () => workers.every((w) => got(w, 'job', 'w').length > 0) || workers.flatMap((w) => got(w, 'job', 'w')).length > 10);
  const publishing = publish(pub, 'job', 0, 300, 5);
  await until(() => got(workers[0]!, 'job', 'w').filter((n) => n < 100_000).length > 10, 'the victim is working');
  workers[0]!.child.kill('SIGKILL');
  await publishing;
  await until(() => uniq(workers.flatMap((w) => got(w, 'job', 'w')).filter((n) => n < 100_000)).length === 300, 'every job handled', 60_000);
});

test('direct: partition and heal, delivery resumes on both sides', netns, async () => {
  const [h0, h1, h2, h3] = lan.hosts as VirtualHost[];
  const a = await node(h0!, [{ topic: 'x' }]);
  const b = await node(h1!, [{ topic: 'x' }]);
  const c = await node(h2!, [{ topic: 'x' }]);
  const d = await node(h3!, [{ topic: 'x' }]);
  const all = [a, b, c, d];
  await warmUp(a, 'x', () => [b, c, d].every((p) => got(p, 'x').length > 0));
  await warmUp(c, 'x', () => [a, b, d].every((p) => got(p, 'x').length > 0));
  await lan.partition([[h0!, h1!], [h2!, h3!]]);
  // Each side keeps working within itself.
  await publish(a, 'x', 0, 10);
  await publish(c, 'x', 1000, 10);
  await until(() => got(b, 'x').filter((n) => n < 10).length === 10 && got(d, 'x').filter((n) => n >= 1000 && n < 1010).length === 10, 'delivery within each side');
  await new Promise((r) => setTimeout(r, 6000)); // past suspicion and reaping: each side forgets the other
  await lan.heal();
  // After the heal the mesh re-forms (mDNS and periodic re-join) and delivery crosses again.
  await until(() => {
    a.send({ cmd: 'publish', topic: 'x', from: 2000, count: 1 });
    c.send({ cmd: 'publish', topic: 'x', from: 3000, count: 1 });
    return got(c, 'x').includes(2000) && got(a, 'x').includes(3000) && got(d, 'x').includes(2000) && got(b, 'x').includes(3000);
  }, 'delivery across the healed partition', 45_000);
  assert.equal(all.length, 4);
});
