// The KeyValueStore compliance suite (DEVELOPERS.md rule 9): memory, mesh and remote stores must all pass it.
// A harness gives one store to write through and one to read from (the same, or another node's); reads on
// another node are awaited (the mesh spreads writes after a put resolves), never timed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MeshError } from '../../src/errors/index.ts';
import type { KeyValueStore, KvEvent } from '../../src/kv/types.ts';

export interface KvHarness {
  /** Whether the store is linearizable and does check-and-set (memory, etcd); the mesh store refuses it. */
  cas: boolean;
  writer: KeyValueStore;
  /** Where reads happen: the writer itself, or another node's store. */
  reader: KeyValueStore;
  teardown?: () => Promise<void>;
}

const LIMIT_MS = 15_000;
const text = (v: Uint8Array | undefined): string | undefined => (v === undefined ? undefined : new TextDecoder().decode(v));
let n = 0;
const prefix = (): string => `compliance/p${process.pid}n${++n}/`;

async function eventually<T>(fn: () => Promise<T>, ok: (v: T) => boolean, what: string): Promise<T> {
  const end = performance.now() + LIMIT_MS;
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (performance.now() > end) assert.fail(`timed out waiting for ${what}; last ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export function kvCompliance(name: string, setup: () => Promise<KvHarness>): void {
  const run = (title: string, fn: (h: KvHarness) => Promise<void>): void => {
    test(`${name}: ${title}`, { timeout: 60_000 }, async () => {
      const h = await setup();
      try {
        await fn(h);
      } finally {
        await h.teardown?.();
      }
    });
  };

  run('put then get: value, flags, CreateIndex ≤ ModifyIndex, and ModifyIndex only goes up', async ({ writer, reader }) => {
    const p = prefix();
    const first = await writer.put(`${p}a`, 'one', { flags: 9 });
    assert.equal(text(first.value), 'one');
    assert.equal(first.flags, 9);
    assert.ok(first.createIndex >= 1 && first.createIndex <= first.modifyIndex);
    const second = await writer.put(`${p}a`, new Uint8Array([1, 2, 3]));
    assert.ok(second.modifyIndex > first.modifyIndex);
    assert.equal(second.createIndex, first.createIndex);
    const got = await eventually(() => reader.get(`${p}a`), (e) => e?.value.length === 3, 'the second value at the reader');
    assert.deepEqual([...got!.value], [1, 2, 3]);
    assert.equal(got!.flags, 0);
    assert.equal(await reader.get(`${p}missing`), undefined);
  });

  run('list is sorted and bounded by the prefix; delete and recursive delete count what existed', async ({ writer, reader }) => {
    const p = prefix();
    for (const k of ['b', 'a', 'dir/x', 'dir/y']) await writer.put(`${p}${k}`, k);
    await writer.put(`${p.slice(0, -1)}-other`, 'outside');
    const keys = await eventually(async () => (await reader.list(p)).map((e) => e.key), (ks) => ks.length === 4, 'four keys at the reader');
    assert.deepEqual(keys, [`${p}a`, `${p}b`, `${p}dir/x`, `${p}dir/y`]);
    assert.equal(await writer.delete(`${p}a`), 1);
    assert.equal(await writer.delete(`${p}a`), 0, 'deleting nothing is no error');
    assert.equal(await writer.delete(`${p}dir/`, { recurse: true }), 2);
    await eventually(async () => (await reader.list(p)).map((e) => e.key), (ks) => ks.length === 1 && ks[0] === `${p}b`, 'the deletes at the reader');
  });

  run('index covers deletes; waitIndex wakes on a write under the prefix and not before', async ({ writer, reader }) => {
    const p = prefix();
    await writer.put(`${p}k`, 'v');
    const before = await eventually(() => reader.index(p), (i) => i >= 1, 'an index');
    await eventually(() => reader.get(`${p}k`), (e) => e !== undefined, 'the key at the reader');
    const at = await reader.index(p);
    let woke = false;
    const waiting = reader.waitIndex(p, at).then((i) => ((woke = true), i));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(woke, false, 'no change, no wake');
    await writer.delete(`${p}k`);
    assert.ok((await waiting) > at, 'a delete moves the index');
    assert.ok(before >= 1);
    const aborted = new AbortController();
    const pending = reader.waitIndex(p, await reader.index(p), { signal: aborted.signal });
    aborted.abort();
    assert.ok((await pending) >= 1, 'an aborted wait answers with the index then');
  });

  run('a wait on an empty prefix\'s index wakes on its first write (a Consul blocking GET before any key exists)', async ({ writer, reader }) => {
    const p = prefix();
    const empty = await reader.index(p);
    const waiting = reader.waitIndex(p, empty);
    await writer.put(`${p}first`, 'x');
    assert.ok((await waiting) > empty);
  });

  run('watch sees puts and deletes under its prefix, in order', async ({ writer, reader }) => {
    const p = prefix();
    const w = reader.watch(p);
    const seen: KvEvent[] = [];
    const reading = (async () => {
      for await (const ev of w) {
        seen.push(ev);
        if (ev.type === 'delete') break;
      }
    })();
    // A remote watch starts from its first listing: give it a moment to be in place.
    await new Promise((r) => setTimeout(r, 100));
    await writer.put(`${p}x`, '1');
    await eventually(async () => seen.length, (l) => l >= 1, 'the put event');
    await writer.delete(`${p}x`);
    await reading;
    w.stop();
    assert.deepEqual(seen.map((e) => [e.type, e.type === 'put' ? e.entry.key : e.key]), [['put', `${p}x`], ['delete', `${p}x`]]);
  });

  run('bad keys and values are coded errors, never a crash', async ({ writer }) => {
    for (const key of ['', '/abs', 'nul\u0000']) {
      await assert.rejects(writer.put(key, 'x'), (e: unknown) => e instanceof MeshError && ['INVALID_ARGUMENT', 'BAD_REQUEST'].includes(e.code), JSON.stringify(key));
    }
    await assert.rejects(writer.put(`${prefix()}big`, new Uint8Array(600_000)), (e: unknown) => e instanceof MeshError && e.code === 'PAYLOAD_TOO_LARGE');
    await assert.rejects(writer.put(`${prefix()}f`, 'x', { flags: -1 }), (e: unknown) => e instanceof MeshError && ['INVALID_ARGUMENT', 'BAD_REQUEST'].includes(e.code));
  });

  run('check-and-set: honoured by a linearizable store, refused (NOT_IMPLEMENTED) by one that is not', async ({ writer, cas }) => {
    const p = prefix();
    if (!cas) {
      await assert.rejects(writer.put(`${p}c`, 'x', { cas: 0 }), (e: unknown) => e instanceof MeshError && e.code === 'NOT_IMPLEMENTED' && /etcd/.test(e.detail));
      return;
    }
    const created = await writer.put(`${p}c`, 'first', { cas: 0 });
    await assert.rejects(writer.put(`${p}c`, 'again', { cas: 0 }), (e: unknown) => e instanceof MeshError && e.code === 'CONFLICT');
    const next = await writer.put(`${p}c`, 'second', { cas: created.modifyIndex });
    await assert.rejects(writer.put(`${p}c`, 'stale', { cas: created.modifyIndex }), (e: unknown) => e instanceof MeshError && e.code === 'CONFLICT');
    assert.equal(text((await writer.get(`${p}c`))?.value), 'second');
    await assert.rejects(writer.delete(`${p}c`, { cas: created.modifyIndex }), (e: unknown) => e instanceof MeshError && e.code === 'CONFLICT');
    assert.equal(await writer.delete(`${p}c`, { cas: next.modifyIndex }), 1);
  });
}
