// The file source on a real filesystem: JSON and YAML, a missing file, a
// broken document, and edits (in place and by rename, as editors save)
// reaching a watcher.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MeshError } from 'micromesh';
import { z } from 'zod';
import { file, loadConfig } from 'micromesh/config';

const dir = await mkdtemp(join(tmpdir(), 'micromesh-config-'));
after(() => rm(dir, { recursive: true, force: true }));

/** Resolves with the next (value, previous) a watcher of `path` sees. */
function nextChange<T>(watch: (fn: (v: T, p: T) => void) => () => void): Promise<[T, T]> {
  return new Promise((resolve) => {
    const off = watch((v, p) => {
      off();
      resolve([v, p]);
    });
  });
}

test('YAML and JSON files merge in order; each leaf names its file', async () => {
  await writeFile(join(dir, 'base.yaml'), 'server:\n  host: localhost\n  port: 80\ngreeting: hi # a comment\nlist: [1, 2]\n');
  await writeFile(join(dir, 'local.json'), JSON.stringify({ server: { port: 8080 }, list: [3] }));
  await writeFile(join(dir, 'empty.yml'), '');
  const config = await loadConfig({ sources: [file(join(dir, 'base.yaml')), file(join(dir, 'local.json')), file(join(dir, 'empty.yml'))], watch: false });
  assert.deepEqual(config.value, { server: { host: 'localhost', port: 8080 }, greeting: 'hi', list: [3] });
  assert.equal(config.sourceOf('server.host'), `file ${join(dir, 'base.yaml')}`);
  assert.equal(config.sourceOf('server.port'), `file ${join(dir, 'local.json')}`);
});

test('a missing file is NOT_FOUND naming it, unless optional; a broken one is INVALID_CONFIG naming it', async () => {
  const missing = join(dir, 'nope.yaml');
  await assert.rejects(loadConfig({ sources: [file(missing)] }),
    (e: MeshError) => e.code === 'NOT_FOUND' && e.detail.startsWith(`config file ${missing} does not exist`));
  const config = await loadConfig({ sources: [file(missing, { optional: true })] });
  assert.deepEqual(config.value, {});
  await config.close();
  await writeFile(join(dir, 'bad.yaml'), 'a: [1, 2\nb: 3\n');
  await assert.rejects(loadConfig({ sources: [file(join(dir, 'bad.yaml'))] }),
    (e: MeshError) => e.code === 'INVALID_CONFIG' && e.detail.startsWith(`config file ${join(dir, 'bad.yaml')}: not valid YAML`));
  await writeFile(join(dir, 'list.json'), '[1]');
  await assert.rejects(loadConfig({ sources: [file(join(dir, 'list.json'))] }),
    (e: MeshError) => e.code === 'INVALID_CONFIG' && /must be a mapping of settings, got a list/.test(e.detail));
  assert.throws(() => file('config.toml'), (e: MeshError) => e.code === 'INVALID_ARGUMENT' && /\.json, \.yaml or \.yml/.test(e.detail));
});

test('edits reach watchers: written in place, replaced by rename, and broken then fixed', { timeout: 20_000 }, async () => {
  const path = join(dir, 'live.yaml');
  await writeFile(path, 'greeting: hello\nserver:\n  port: 8080\n');
  const schema = z.object({ greeting: z.string(), server: z.object({ port: z.number().int() }) });
  const config = await loadConfig({ sources: [file(path)], schema, debounceMs: 20 });
  assert.equal(config.value.greeting, 'hello');
  const errors: MeshError[] = [];
  config.onError((e) => errors.push(e));
  let portChanges = 0;
  config.watch('server.port', () => void portChanges++);

  // In place.
  let change = nextChange<string>((fn) => config.watch('greeting', fn));
  await writeFile(path, 'greeting: bonjour\nserver:\n  port: 8080\n');
  assert.deepEqual(await change, ['bonjour', 'hello']);
  assert.equal(config.get('greeting'), 'bonjour');

  // As editors save: a new file renamed over the old one (a new inode).
  change = nextChange<string>((fn) => config.watch('greeting', fn));
  await writeFile(path + '.tmp', 'greeting: hallo\nserver:\n  port: 8080\n');
  await rename(path + '.tmp', path);
  assert.deepEqual(await change, ['hallo', 'bonjour']);

  // A value the schema refuses: reported with field and file, the old value stays.
  const failed = new Promise<MeshError>((resolve) => config.onError(resolve));
  await writeFile(path, 'greeting: hallo\nserver:\n  port: eighty\n');
  const err = await failed;
  assert.equal(err.code, 'INVALID_CONFIG');
  assert.match(err.detail, new RegExp(`server\\.port: .*expected number.*got "eighty" \\(from file ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\)`));
  assert.equal(config.value.server.port, 8080);

  // Fixed again: the watchers see the change.
  const port = nextChange<number>((fn) => config.watch('server.port', fn));
  await writeFile(path, 'greeting: hallo\nserver:\n  port: 9090\n');
  assert.deepEqual(await port, [9090, 8080]);
  assert.equal(portChanges, 1, 'the port watcher fired once: the greeting edits and the refused value left it alone');
  assert.ok(errors.length >= 1);
  await config.close();
  await config.close();
});
