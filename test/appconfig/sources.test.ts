// The sources' parsing rules (env, flags, mesh values) and the merge: order,
// deep merge of plain objects, arrays replaced, and each leaf's origin.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MeshError } from 'micromesh';
import { env, envPath, flags, loadConfig, parseFlags, parseKvValue, type ConfigSource } from 'micromesh/config';

/** A source that yields a fixed tree (every leaf from `name`). */
const fixed = (name: string, tree: Record<string, unknown>): ConfigSource => ({ name, load: async () => ({ tree, origins: new Map() }) });

test('env: prefix stripped, lower-cased, _ splits levels, __ is a literal _, JSON values when they parse', async () => {
  assert.deepEqual(envPath('SERVER_PORT'), ['server', 'port']);
  assert.deepEqual(envPath('MAX__CONN'), ['max_conn']);
  assert.deepEqual(envPath('A___B'), ['a_', 'b']);
  assert.equal(envPath('_X'), undefined);
  const vars = {
    APP_SERVER_PORT: '8080', APP_DEBUG: 'true', APP_NAME: 'shop', APP_RATIO: '0.5', APP_TAGS: '["a","b"]', APP_ZIP: '01234',
    APP_DB_MAX__CONN: '10', OTHER_X: '1', APP_: 'ignored',
  };
  const config = await loadConfig({ sources: [env('APP_', { env: vars })], watch: false });
  assert.deepEqual(config.value, { server: { port: 8080 }, debug: true, name: 'shop', ratio: 0.5, tags: ['a', 'b'], zip: '01234', db: { max_conn: 10 } });
  assert.equal(config.sourceOf('server.port'), 'env APP_SERVER_PORT');
  assert.equal(config.sourceOf('db.max_conn'), 'env APP_DB_MAX__CONN');
  await config.close();
});

test('flags: --a.b=v, --a.b v, --flag alone is true; -- ends them; JSON values when they parse', async () => {
  const argv = ['serve', '--server.port=8080', '--server.host', '0.0.0.0', '--debug', '--name', 'x y', '--verbose', '--list={"a":[1]}', '-v', '--', '--ignored'];
  assert.deepEqual(parseFlags(argv).map(([p, v]) => [p.join('.'), v]), [
    ['server.port', 8080], ['server.host', '0.0.0.0'], ['debug', true], ['name', 'x y'], ['verbose', true], ['list', { a: [1] }],
  ]);
  const config = await loadConfig({ sources: [flags(argv)], watch: false });
  assert.deepEqual(config.value, { server: { port: 8080, host: '0.0.0.0' }, debug: true, name: 'x y', verbose: true, list: { a: [1] } });
  assert.equal(config.sourceOf('server.host'), 'flag --server.host');
  assert.throws(() => flags('--x' as unknown as string[]), (e: MeshError) => e.code === 'INVALID_ARGUMENT');
});

test('mesh values: JSON, then YAML for a multi-line document, else the string', () => {
  assert.equal(parseKvValue('8080'), 8080);
  assert.equal(parseKvValue('Hello: world'), 'Hello: world');
  assert.equal(parseKvValue('hello'), 'hello');
  assert.deepEqual(parseKvValue('a: 1\nb: [x, y]\n'), { a: 1, b: ['x', 'y'] });
});

test('merge: in order, later wins, plain objects merge deeply, arrays are replaced; each leaf keeps its origin', async () => {
  const config = await loadConfig({
    sources: [
      fixed('defaults', { server: { host: 'localhost', port: 80, tls: { on: false } }, tags: ['a', 'b'], greeting: 'hi', db: { url: 'x' } }),
      env('APP_', { env: { APP_SERVER_PORT: '8080', APP_TAGS: '["c"]', APP_DB: '"none"' } }),
      flags(['--server.tls.on', '--greeting', 'hello']),
    ],
    watch: false,
  });
  assert.deepEqual(config.value, { server: { host: 'localhost', port: 8080, tls: { on: true } }, tags: ['c'], greeting: 'hello', db: 'none' });
  assert.equal(config.get('server.port'), 8080);
  assert.deepEqual(config.get('server.tls'), { on: true });
  assert.equal(config.sourceOf('server.host'), 'defaults');
  assert.equal(config.sourceOf('server.port'), 'env APP_SERVER_PORT');
  assert.equal(config.sourceOf('tags.0'), 'env APP_TAGS');
  assert.equal(config.sourceOf('server.tls.on'), 'flag --server.tls.on');
  assert.equal(config.sourceOf('db'), 'env APP_DB');
  assert.equal(config.sourceOf('db.url'), 'env APP_DB');
  assert.equal(config.sourceOf('server'), 'defaults, env APP_SERVER_PORT, flag --server.tls.on');
  assert.equal(config.sourceOf('nothing'), undefined);
  // Frozen all the way down.
  assert.ok(Object.isFrozen(config.value) && Object.isFrozen(config.value.server) && Object.isFrozen(config.value.tags));
  assert.throws(() => ((config.value.server as Record<string, unknown>).port = 1), TypeError);
  await config.close();
});

test('an own __proto__ key in a source never reaches the prototype', async () => {
  const config = await loadConfig({ sources: [fixed('evil', JSON.parse('{"__proto__": {"polluted": true}, "a": 1}'))], watch: false });
  assert.deepEqual(config.value, { a: 1 });
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

test('loadConfig refuses bad options and obeys its signal', async () => {
  await assert.rejects(loadConfig({ sources: 'x' as unknown as ConfigSource[] }), (e: MeshError) => e.code === 'INVALID_CONFIG' && /sources/.test(e.detail));
  await assert.rejects(loadConfig({ sources: [], debounceMs: -1 }), (e: MeshError) => e.code === 'INVALID_CONFIG' && /debounceMs must be a number in \[0, 60000\], got -1/.test(e.detail));
  await assert.rejects(loadConfig({ sources: [], signal: AbortSignal.abort() }), (e: MeshError) => e.code === 'CANCELLED');
  const ac = new AbortController();
  const hanging: ConfigSource = { name: 'slow', load: (signal) => new Promise((_, reject) => signal?.addEventListener('abort', () => reject(signal.reason))) };
  const p = loadConfig({ sources: [hanging], signal: ac.signal });
  ac.abort();
  await assert.rejects(p, (e: MeshError) => e.code === 'CANCELLED');
  const broken: ConfigSource = { name: 'broken', load: async () => { throw new Error('disk on fire'); } };
  await assert.rejects(loadConfig({ sources: [broken] }), (e: MeshError) => e.code === 'UNAVAILABLE' && e.detail === 'config source broken: disk on fire');
});
