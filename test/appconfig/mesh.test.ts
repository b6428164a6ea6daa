// The mesh source on the in-process key/value store: keys as a tree, a
// document at the prefix, a missing prefix, optional and default, and a
// write reaching a watcher.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryKv, MeshError, silentLogger } from 'micromesh';
import { z } from 'zod';
import * as v from 'valibot';
import { env, loadConfig, mesh } from 'micromesh/config';

test('the keys under the prefix form a tree; a document at the prefix is the base they refine', async () => {
  const kv = new MemoryKv();
  await kv.put('test/server', JSON.stringify({ greeting: 'hi', db: { host: 'db1', port: 5432 } }));
  await kv.put('test/server/db/port', '6432');
  await kv.put('test/server/name', 'Hello: world');
  await kv.put('test/server/limits', 'rps: 10\nburst: 20\n');
  await kv.put('test/server/folder/', '');
  await kv.put('test/serverless/x', 'not mine');
  const config = await loadConfig({ sources: [mesh(kv, 'test/server')], watch: false });
  assert.deepEqual(config.value, { greeting: 'hi', db: { host: 'db1', port: 6432 }, name: 'Hello: world', limits: { rps: 10, burst: 20 } });
  assert.equal(config.sourceOf('db.host'), 'mesh key test/server');
  assert.equal(config.sourceOf('db.port'), 'mesh key test/server/db/port');
  assert.equal(config.sourceOf('limits.rps'), 'mesh key test/server/limits');
});

test('a YAML document at the prefix works as well as JSON', async () => {
  const kv = new MemoryKv();
  await kv.put('app', 'server:\n  port: 8080\ntags: [a, b]\n');
  const config = await loadConfig({ sources: [mesh(kv, 'app/')], watch: false });
  assert.deepEqual(config.value, { server: { port: 8080 }, tags: ['a', 'b'] });
});

test('a missing prefix is NOT_FOUND naming the key, unless optional or given a default', async () => {
  const kv = new MemoryKv();
  await kv.put('test/serverless', 'x');
  await assert.rejects(loadConfig({ sources: [mesh(kv, 'test/server')] }), (e: MeshError) => {
    assert.equal(e.code, 'NOT_FOUND');
    assert.match(e.detail, /^mesh config test\/server: no such key in the key\/value store of this process/);
    return true;
  });
  const optional = await loadConfig({ sources: [mesh(kv, 'test/server', { optional: true })] });
  assert.deepEqual(optional.value, {});
  await optional.close();
  const withDefault = await loadConfig({ sources: [mesh(kv, 'test/server', { default: { greeting: 'hello' } })] });
  assert.deepEqual(withDefault.value, { greeting: 'hello' });
  assert.equal(withDefault.sourceOf('greeting'), 'mesh default for test/server');
  await withDefault.close();
  assert.throws(() => mesh(kv, ''), (e: MeshError) => e.code === 'INVALID_ARGUMENT');
});

test('a key written in the store reaches the watcher; a refused value is reported with field and source', { timeout: 20_000 }, async () => {
  const kv = new MemoryKv();
  await kv.put('greeter/greeting', 'Hello');
  await kv.put('greeter/port', '8080');
  const schema = z.object({ greeting: z.string(), port: z.number().int().min(1).max(65535) });
  const logged: string[] = [];
  const logger = { ...silentLogger, error: (msg: string, f?: Record<string, unknown>) => void logged.push(`${msg}: ${String(f?.err)}`) };
  const config = await loadConfig({ sources: [mesh(kv, 'greeter')], schema, debounceMs: 10, logger });
  const seen: [string, string][] = [];
  const changed = new Promise<void>((resolve) => config.watch('greeting', (now, before) => {
    seen.push([now, before]);
    resolve();
  }));
  // A watcher that throws is logged, and the others still run.
  config.watch('greeting', () => { throw new Error('watcher bug'); });
  await kv.put('greeter/greeting', 'Bonjour');
  await changed;
  assert.deepEqual(seen, [['Bonjour', 'Hello']]);
  assert.equal(config.value.greeting, 'Bonjour');
  assert.deepEqual(logged, ['config watcher failed: watcher bug']);

  const failed = new Promise<MeshError>((resolve) => config.onError(resolve));
  await kv.put('greeter/port', '70000');
  const err = await failed;
  assert.equal(err.code, 'INVALID_CONFIG');
  assert.match(err.detail, /^invalid config: port: .*got 70000 \(from mesh key greeter\/port\)$/);
  assert.equal(config.value.port, 8080);

  // Deleting every key: NOT_FOUND reported, the last valid config kept.
  const gone = new Promise<MeshError>((resolve) => config.onError(resolve));
  await kv.delete('greeter', { recurse: true });
  assert.equal((await gone).code, 'NOT_FOUND');
  assert.equal(config.value.greeting, 'Bonjour');
  await config.close();
  await kv.put('greeter/greeting', 'after close');
});

test('a schema violation at load names the field and the source that gave it (zod and valibot)', async () => {
  const kv = new MemoryKv();
  await kv.put('svc/server/host', 'localhost');
  const sources = () => [mesh(kv, 'svc'), env('APP_', { env: { APP_SERVER_PORT: 'abc' } })];
  await assert.rejects(loadConfig({ sources: sources(), schema: z.object({ server: z.object({ host: z.string(), port: z.number(), tls: z.boolean() }) }) }),
    (e: MeshError) => {
      assert.equal(e.code, 'INVALID_CONFIG');
      assert.match(e.detail, /server\.port: [^;]*expected number[^;]*, got "abc" \(from env APP_SERVER_PORT\)/);
      assert.match(e.detail, /server\.tls: [^;]*expected boolean[^;]* \(no source sets it\)/);
      return true;
    });
  await assert.rejects(loadConfig({ sources: sources(), schema: v.object({ server: v.object({ port: v.number('must be a number') }) }) }),
    (e: MeshError) => e.code === 'INVALID_CONFIG' && e.detail === 'invalid config: server.port: must be a number, got "abc" (from env APP_SERVER_PORT)');
  // Typed output, defaults from the schema.
  const ok = await loadConfig({ sources: [mesh(kv, 'svc')], schema: z.object({ server: z.object({ host: z.string(), port: z.number().default(80) }) }) });
  const port: number = ok.value.server.port;
  const host: string = ok.get('server.host');
  assert.deepEqual([host, port], ['localhost', 80]);
  await ok.close();
});
