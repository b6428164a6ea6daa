// The interop: the proto greeter (examples/proto-greeter, its own process) called from the
// CLI with JSON, from another service with the generated client in protobuf, and through the API
// gateway with JSON over HTTP; every path returns the same data.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createService, silentLogger } from 'micromesh';
import { createApiGateway } from 'micromesh/api';
import { GreeterClient } from '../../examples/proto-greeter/gen/greeter/v1/greeter_micromesh.ts';
import { cli } from '../support/cli.ts';

const SERVER = fileURLToPath(new URL('../../examples/proto-greeter/server.ts', import.meta.url));

test('proto greeter: CLI (JSON), generated client (protobuf) and API gateway (HTTP JSON) get the same answers', async (t) => {
  const child = spawn(process.execPath, ['--import', 'tsx', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  });
  const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
  const gossip = /gossip on (\S+)/.exec(line)?.[1];
  assert.ok(gossip, `unexpected server output: ${line}`);

  const byCli = await cli(['--no-mdns', '--join', gossip, '--json', 'call', 'greeter', 'Greeter.Hello', '{"name":"Ada"}']);
  assert.equal(byCli.code, 0, byCli.stderr);
  assert.deepEqual(JSON.parse(byCli.stdout), { msg: 'Hello Ada' });
  const badCli = await cli(['--no-mdns', '--join', gossip, 'call', 'greeter', 'Greeter.Hello', '{"nom":"Ada"}']);
  assert.notEqual(badCli.code, 0);
  assert.match(badCli.stderr, /DECODE_FAILED.*greeter\.v1\.HelloRequest/);

  const svc = createService({ name: 'caller', address: '127.0.0.1:0', logger: silentLogger, mesh: { mdns: false, join: [gossip] } });
  await svc.start();
  t.after(() => svc.stop());
  for (let i = 0; i < 200 && (await svc.registry.getService('greeter')).length === 0; i++) await new Promise((r) => setTimeout(r, 20));
  const greeter = new GreeterClient(svc.client);
  assert.equal((await greeter.hello({ name: 'Ada' })).msg, 'Hello Ada');
  const streamed: string[] = [];
  for await (const m of greeter.stream({ name: 'Ada', count: 2 })) streamed.push(m.msg);
  assert.deepEqual(streamed, ['Hello Ada #1', 'Hello Ada #2']);

  const gw = createApiGateway({ service: svc, address: '127.0.0.1:0' });
  await gw.start();
  t.after(() => gw.stop());
  const res = await fetch(`http://${gw.address}/greeter/Greeter/Hello`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"Ada"}' });
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { msg: 'Hello Ada' });
  const bad = await fetch(`http://${gw.address}/greeter/Greeter/Hello`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"nom":"Ada"}' });
  assert.equal(bad.status, 400);
  assert.equal(((await bad.json()) as { code: string }).code, 'DECODE_FAILED');
});
