// `micromesh service NAME` prints each endpoint's request and response
// fields, inline or fetched by ref, and includes them in --json.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { JsonLinesProcess } from '../support/json-lines.ts';
import { cli, cliJson } from '../support/cli.ts';

const FIXTURE = fileURLToPath(new URL('./fixtures/schema-service.ts', import.meta.url));
const procs: JsonLinesProcess[] = [];
after(() => { for (const p of procs) p.child.kill('SIGKILL'); });

interface Endpoint { name: string; metadata: Record<string, string>; schemas: { request?: Record<string, unknown>; response?: Record<string, unknown> } }

test('service prints request and response fields; --json carries the schemas', async () => {
  const p = new JsonLinesProcess(spawn(process.execPath, [FIXTURE], { stdio: ['ignore', 'pipe', 'pipe'] }), 'shop');
  procs.push(p);
  const { gossip } = await p.waitFor((x) => typeof x.gossip === 'string', 20_000, 'shop start') as { gossip: string };
  const via = ['--no-mdns', '--join', gossip];
  const r = await cli([...via, 'service', 'shop']);
  assert.equal(r.code, 0, r.stderr);
  const out = r.stdout.replace(/endpoint +/g, 'endpoint ');
  assert.match(out, /^ {2}endpoint Orders\.Get\n {4}request \{\n {6}id int \(required\) {2}\/\/ order number\n {4}\}\n {4}response \{\n {6}id number \(required\)\n {6}items \[\]\{ \(required\)\n {8}sku string \(required\)\n {8}qty number \(required\)\n {6}\}\n {4}\}$/m);
  // Fetched by ref (too large to go inline), nested objects indented.
  assert.ok(out.includes([
    '  endpoint Orders.Create',
    '    request {',
    '      customer { (required)',
    '        name string (required)',
    '        address { (required)',
    '          city string (required)',
    '          zip string',
    '        }',
    '      }',
    '      lines []{ (required)',
    '        sku string (required)',
    '        qty int',
    '      }',
    '      notes string|null',
    '      status "new"|"paid"',
    '      attrs map[string]string',
    '    }',
  ].join('\n')), out);
  assert.match(out, /^ {2}endpoint Orders\.Ping\n {2}node/m, 'no schema, no fields');
  const [version] = await cliJson<{ endpoints: Endpoint[] }[]>([...via, 'service', 'shop']);
  const byName = Object.fromEntries(version!.endpoints.map((e) => [e.name, e]));
  assert.match(byName['Orders.Create']!.metadata['schema-ref']!, /^[0-9a-f]{16}$/);
  assert.deepEqual((byName['Orders.Create']!.schemas.request!.required), ['customer', 'lines']);
  assert.equal(byName['Orders.Get']!.schemas.request!.type, 'object');
  assert.deepEqual(byName['Orders.Ping']!.schemas, {});
});
