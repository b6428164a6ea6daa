// The Registry compliance suite (DEVELOPERS.md rule 9): memory, static and
// the SWIM-backed mesh registry must all pass it. It uses the Registry
// interface only. Changes may show up asynchronously (gossip), so reads poll
// until they match, calling the harness's `advance` for virtual-time
// registries; nothing asserts timings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Node, Registry, RegistryEvent, Service, Watcher } from '../../src/registry/types.ts';

export interface RegistryHarness {
  registry: Registry;
  /** Moves virtual time on (gossip rounds) while the suite waits for a change to show. */
  advance?: (ms: number) => Promise<void>;
  teardown: () => Promise<void>;
}

export interface RegistryComplianceOptions {
  setup: () => Promise<RegistryHarness>;
}

const LIMIT_MS = 10_000;
const realSleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
let counter = 0;

/** A service name unique to this run, so shared backends cannot mix tests up. */
function uniqueName(label: string): string {
  return `compliance-${label}-${process.pid}-${++counter}`;
}

export function node(id: string, address = `10.0.0.${id.length}:${8000 + counter}`, metadata: Record<string, string> = {}): Node {
  return { id, address, metadata };
}

export function svc(name: string, version: string, nodes: Node[], extra: Partial<Service> = {}): Service {
  return { name, version, metadata: {}, endpoints: [], nodes, ...extra };
}

async function step(h: RegistryHarness): Promise<void> {
  if (h.advance !== undefined) await h.advance(10);
  await realSleep(1);
}

/** Polls `read` until `ok` accepts its result; fails with the last result after a generous real-time limit. */
async function eventually<T>(h: RegistryHarness, read: () => Promise<T>, ok: (v: T) => boolean, what: string): Promise<T> {
  const start = performance.now();
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (performance.now() - start > LIMIT_MS) assert.fail(`timed out waiting for ${what}; last saw ${JSON.stringify(v)}`);
    await step(h);
  }
}

/** Reads `n` events from `w`, advancing virtual time while waiting. */
async function take(h: RegistryHarness, w: Watcher, n: number): Promise<RegistryEvent[]> {
  const it = w[Symbol.asyncIterator]();
  const out: RegistryEvent[] = [];
  const start = performance.now();
  while (out.length < n) {
    const p = it.next();
    let settled: IteratorResult<RegistryEvent> | undefined;
    void p.then((r) => (settled = r));
    while (settled === undefined) {
      if (performance.now() - start > LIMIT_MS) assert.fail(`timed out after ${out.length} of ${n} events: ${JSON.stringify(out)}`);
      await step(h);
    }
    if (settled.done) assert.fail(`watcher ended after ${out.length} of ${n} events`);
    out.push(settled.value);
  }
  return out;
}

const ids = (s: Service | undefined): string[] => (s?.nodes ?? []).map((n) => n.id).sort();
const version = (list: Service[], v: string): Service | undefined => list.find((s) => s.version === v);

export function registryCompliance(name: string, opts: RegistryComplianceOptions): void {
  const run = (title: string, body: (h: RegistryHarness, r: Registry) => Promise<void>): void => {
    test(`${name} registry: ${title}`, async () => {
      const h = await opts.setup();
      try {
        await body(h, h.registry);
      } finally {
        await h.teardown();
      }
    });
  };

  run('register then getService returns the record; an unknown name gives []', async (h, r) => {
    const n = uniqueName('get');
    const endpoints = [{ name: 'Greeter.Hello', metadata: { stream: 'false' } }];
    await r.register(svc(n, '1.0.0', [node('a', '10.0.0.1:9000', { zone: 'eu' })], { metadata: { team: 'x' }, endpoints }));
    const got = await eventually(h, () => r.getService(n), (l) => l.length === 1, 'the service');
    assert.deepEqual(got[0], {
      name: n, version: '1.0.0', metadata: { team: 'x' }, endpoints, nodes: [{ id: 'a', address: '10.0.0.1:9000', metadata: { zone: 'eu' } }],
    });
    assert.deepEqual(await r.getService(uniqueName('nobody')), []);
  });

  run('register merges nodes by id: a new id adds, the same id replaces', async (h, r) => {
    const n = uniqueName('merge');
    await r.register(svc(n, '1', [node('a', '10.0.0.1:1')]));
    await r.register(svc(n, '1', [node('b', '10.0.0.2:1')]));
    await r.register(svc(n, '1', [node('a', '10.0.0.9:9')]));
    const got = await eventually(h, () => r.getService(n), (l) => ids(l[0]).join() === 'a,b' && l[0]!.nodes.some((x) => x.address === '10.0.0.9:9'), 'merged nodes');
    assert.equal(got.length, 1);
    assert.equal(got[0]!.nodes.find((x) => x.id === 'a')!.address, '10.0.0.9:9');
  });

  run('register replaces the record metadata and endpoints', async (h, r) => {
    const n = uniqueName('meta');
    await r.register(svc(n, '1', [node('a')], { metadata: { v: '1' }, endpoints: [{ name: 'A.Old', metadata: {} }] }));
    await r.register(svc(n, '1', [node('a')], { metadata: { v: '2' }, endpoints: [{ name: 'A.New', metadata: {} }] }));
    const got = await eventually(h, () => r.getService(n), (l) => l[0]?.metadata.v === '2', 'new metadata');
    assert.deepEqual(got[0]!.endpoints.map((e) => e.name), ['A.New']);
  });

  run('versions are separate records of one service', async (h, r) => {
    const n = uniqueName('versions');
    await r.register(svc(n, '1.0.0', [node('a')]));
    await r.register(svc(n, '2.0.0', [node('b'), node('c')]));
    const got = await eventually(h, () => r.getService(n), (l) => l.length === 2 && ids(version(l, '2.0.0')).length === 2, 'two versions');
    assert.deepEqual(ids(version(got, '1.0.0')), ['a']);
    assert.deepEqual(ids(version(got, '2.0.0')), ['b', 'c']);
  });

  run('deregister removes only the given nodes; removing the last one removes the version', async (h, r) => {
    const n = uniqueName('dereg');
    await r.register(svc(n, '1', [node('a'), node('b')]));
    await r.register(svc(n, '2', [node('c')]));
    await eventually(h, () => r.getService(n), (l) => l.length === 2 && ids(version(l, '1')).length === 2, 'registration');
    await r.deregister(svc(n, '1', [node('a')]));
    await eventually(h, () => r.getService(n), (l) => ids(version(l, '1')).join() === 'b', 'node a gone');
    await r.deregister(svc(n, '1', [node('b')]));
    const got = await eventually(h, () => r.getService(n), (l) => version(l, '1') === undefined, 'version 1 gone');
    assert.deepEqual(got.map((s) => s.version), ['2']);
    assert.ok(!(await r.listServices()).some((s) => s.name === n && s.version === '1'));
    await r.deregister(svc(n, '2', [node('c')]));
    await eventually(h, () => r.getService(n), (l) => l.length === 0, 'service gone');
  });

  run('deregistering an unknown service or node is a no-op', async (h, r) => {
    const n = uniqueName('noop');
    await r.deregister(svc(uniqueName('nobody'), '1', [node('x')]));
    await r.register(svc(n, '1', [node('a')]));
    await r.deregister(svc(n, '1', [node('zzz')]));
    await r.deregister(svc(n, '9', [node('a')]));
    const got = await eventually(h, () => r.getService(n), (l) => l.length === 1, 'the service');
    assert.deepEqual(ids(got[0]), ['a']);
  });

  run('results are copies: neither results nor the registered object alias its state', async (h, r) => {
    const n = uniqueName('copies');
    const input = svc(n, '1', [node('a', '10.0.0.1:1', { k: 'v' })], { metadata: { m: '1' } });
    await r.register(input);
    input.nodes[0]!.address = 'mutated:1';
    input.nodes.push(node('intruder'));
    input.metadata.m = 'mutated';
    const first = await eventually(h, () => r.getService(n), (l) => l.length === 1, 'the service');
    first[0]!.nodes[0]!.metadata.k = 'changed';
    first[0]!.nodes.length = 0;
    first[0]!.metadata.m = 'changed';
    const listed = (await r.listServices()).find((s) => s.name === n)!;
    listed.nodes.length = 0;
    const again = await r.getService(n);
    assert.deepEqual(again[0]!.nodes, [{ id: 'a', address: '10.0.0.1:1', metadata: { k: 'v' } }]);
    assert.equal(again[0]!.metadata.m, '1');
  });

  run('listServices lists every version of every service', async (h, r) => {
    const a = uniqueName('list-a');
    const b = uniqueName('list-b');
    await r.register(svc(a, '1', [node('a1')]));
    await r.register(svc(a, '2', [node('a2')]));
    await r.register(svc(b, '1', [node('b1')]));
    const keys = (l: Service[]): string[] => l.filter((s) => s.name === a || s.name === b).map((s) => `${s.name}@${s.version}`).sort();
    const got = await eventually(h, () => r.listServices(), (l) => keys(l).length === 3, 'three records');
    assert.deepEqual(keys(got), [`${a}@1`, `${a}@2`, `${b}@1`].sort());
  });

  run('an aborted signal rejects with CANCELLED and changes nothing', async (_h, r) => {
    const n = uniqueName('abort');
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(r.register(svc(n, '1', [node('a')]), { signal: ac.signal }), { code: 'CANCELLED' });
    await assert.rejects(r.getService(n, { signal: ac.signal }), { code: 'CANCELLED' });
    assert.deepEqual(await r.getService(n), []);
  });

  run('watch sees add, update and remove in order, each with the whole record', async (h, r) => {
    const n = uniqueName('watch');
    const w = r.watch({ service: n });
    try {
      await r.register(svc(n, '1', [node('a')]));
      await r.register(svc(n, '1', [node('b')]));
      await r.deregister(svc(n, '1', [node('a')]));
      await r.deregister(svc(n, '1', [node('b')]));
      const events = await take(h, w, 4);
      assert.deepEqual(events.map((e) => e.type), ['add', 'update', 'update', 'remove']);
      assert.deepEqual(events.map((e) => ids(e.service).join()), ['a', 'a,b', 'b', 'b']);
      for (const e of events) assert.equal(`${e.service.name}@${e.service.version}`, `${n}@1`);
    } finally {
      w.stop();
    }
  });

  run('a watch for one service sees no other service; an unfiltered watch sees all', async (h, r) => {
    const mine = uniqueName('mine');
    const other = uniqueName('other');
    const only = r.watch({ service: mine });
    const all = r.watch();
    try {
      await r.register(svc(other, '1', [node('o')]));
      await r.register(svc(mine, '1', [node('m')]));
      const [e] = await take(h, only, 1);
      assert.equal(e!.service.name, mine);
      assert.equal(e!.type, 'add');
      const seen = (await take(h, all, 2)).map((x) => x.service.name);
      assert.deepEqual(seen.filter((s) => s === mine || s === other), [other, mine]);
    } finally {
      only.stop();
      all.stop();
    }
  });

  run('stop() ends the iteration, releasing a pending next() at once', async (_h, r) => {
    const w = r.watch({ service: uniqueName('stop') });
    const it = w[Symbol.asyncIterator]();
    const pending = it.next();
    w.stop();
    assert.deepEqual(await pending, { done: true, value: undefined });
    assert.equal((await it.next()).done, true);
    w.stop(); // idempotent
  });

  run('aborting the watch signal ends the iteration; so does break', async (h, r) => {
    const n = uniqueName('watch-abort');
    const ac = new AbortController();
    const w = r.watch({ service: n, signal: ac.signal });
    const seen: string[] = [];
    const loop = (async () => {
      for await (const e of w) {
        seen.push(e.type);
        ac.abort();
      }
    })();
    await r.register(svc(n, '1', [node('a')]));
    await eventually(h, async () => seen.length, (k) => k >= 1, 'first event');
    await loop;
    await r.register(svc(n, '1', [node('b')]));
    assert.deepEqual(seen, ['add']);

    const pre = new AbortController();
    pre.abort();
    const dead = r.watch({ service: n, signal: pre.signal });
    assert.equal((await dead[Symbol.asyncIterator]().next()).done, true);

    const w2 = r.watch({ service: n });
    const got: string[] = [];
    await r.deregister(svc(n, '1', [node('a')]));
    for await (const e of w2) {
      got.push(e.type);
      break;
    }
    assert.deepEqual(got, ['update']);
    assert.equal((await w2[Symbol.asyncIterator]().next()).done, true);
  });

  run('concurrent watchers each get every event, in order', async (h, r) => {
    const n = uniqueName('many');
    const watchers = [r.watch({ service: n }), r.watch({ service: n }), r.watch()];
    try {
      for (let i = 0; i < 10; i++) await r.register(svc(n, '1', [node(`n${i}`)]));
      for (const w of watchers) {
        const events = (await take(h, w, 10)).filter((e) => e.service.name === n);
        assert.deepEqual(events.map((e) => e.service.nodes.length), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        assert.equal(events[0]!.type, 'add');
      }
    } finally {
      for (const w of watchers) w.stop();
    }
  });
}
