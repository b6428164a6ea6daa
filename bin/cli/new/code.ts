// The JavaScript modules of a project `micromesh new` generates: the handler,
// the service's main, a client, and the test. Plain ES modules with JSDoc
// types (`// @ts-check` lets editors check them against micromesh's .d.ts):
// see bin/cli/commands/new.ts for why not TypeScript.
import type { ProjectNames, ProtoNames } from './names.ts';

/** handler.js: the handler class; every method is an endpoint `<Handler>.<Method>`. */
export function handlerJs(n: ProjectNames): string {
  return `// @ts-check
// The ${n.handler} handler: service.handle('${n.handler}', new ${n.handler}()) exposes
// each method as an endpoint, ${n.handler}.Hello and ${n.handler}.Stream.
import { setTimeout as sleep } from 'node:timers/promises';
import { badRequest } from 'micromesh';

/** @typedef {import('micromesh').HandlerContext} HandlerContext */
/** @typedef {{ name: string }} HelloRequest */
/** @typedef {{ name: string, count?: number, intervalMs?: number }} StreamRequest */
/** @typedef {{ msg: string }} HelloResponse */

export class ${n.handler} {
  /** The greeting word; main.js keeps it on the mesh config \`${n.service}/greeting\` (default Hello). */
  greeting = 'Hello';

  /**
   * Unary: one request, one response. A bad request throws badRequest(): the
   * caller gets a MeshError with code 'BAD_REQUEST' (status 400), never retried.
   * @param {HelloRequest} req
   * @returns {HelloResponse}
   */
  Hello(req) {
    const name = req?.name;
    if (typeof name !== 'string' || name.trim() === '') throw badRequest('name is required', '${n.service}');
    if (name.length > 100) throw badRequest('name must be at most 100 characters', '${n.service}');
    return { msg: \`\${this.greeting} \${name}\` };
  }

  /**
   * Server streaming (an async generator): \`count\` greetings (default 3), one
   * every \`intervalMs\` (default 0). Stops as soon as ctx.signal fires: the
   * caller cancelled or stopped reading, or its deadline passed.
   * @param {StreamRequest} req
   * @param {HandlerContext} ctx
   * @returns {AsyncGenerator<HelloResponse>}
   */
  async *Stream(req, ctx) {
    const { msg } = this.Hello(req);
    const count = req.count ?? 3;
    const intervalMs = req.intervalMs ?? 0;
    if (!Number.isInteger(count) || count < 1 || count > 1000) throw badRequest('count must be an integer in [1, 1000]', '${n.service}');
    if (!Number.isInteger(intervalMs) || intervalMs < 0 || intervalMs > 10_000) throw badRequest('intervalMs must be an integer in [0, 10000]', '${n.service}');
    for (let i = 1; i <= count && !ctx.signal.aborted; i++) {
      yield { msg: \`\${msg} #\${i}\` };
      // The signal also cuts the wait short; the loop then ends.
      if (intervalMs > 0 && i < count) await sleep(intervalMs, undefined, { signal: ctx.signal }).catch(() => {});
    }
  }
}
`;
}

/**
 * main.js (main.ts with `proto`): the service on the mesh until
 * SIGINT/SIGTERM (`npm start`). One template for both projects: they differ
 * in how types are written (JSDoc or TypeScript), in what `handle` takes (the
 * handler's name or the generated definition) and in where the code runs
 * from (the project, or dist/ where tsc writes it).
 */
export function mainJs(n: ProjectNames, proto?: ProtoNames): string {
  const ts = proto !== undefined;
  const endpoints = proto?.service ?? n.handler;
  const handled = proto ? `${proto.service}Definition` : `'${n.handler}'`;
  const entry = ts ? 'dist/main.js' : 'main.js';
  /** `expr` as `type`: a JSDoc cast, or a TypeScript assertion. */
  const as = (expr: string, type: string, paren = false) => {
    if (!ts) return `/** @type {${type}} */ (${expr})`;
    return paren ? `(${expr} as ${type})` : `${expr} as ${type}`;
  };
  return `${ts ? '' : '// @ts-check\n'}// Runs ${n.service} on the mesh until Ctrl-C or SIGTERM (\`npm start\`), then stops
// gracefully. Peers on the LAN find it by mDNS; elsewhere they join through the
// gossip address it prints. \`--address 127.0.0.1:0 --no-mdns\` keeps it on this machine.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createService } from 'micromesh';
import { loadConfig, mesh${ts ? ', type StandardSchemaV1' : ''} } from 'micromesh/config';
${proto ? `import { ${handled} } from './${proto.gen}_micromesh.js';\n` : ''}import { ${endpoints} } from './handler.js';

/**
 * The config's schema (any Standard Schema works: zod, valibot...); this one
 * needs no dependency: \`greeting\`, a non-empty string.${ts ? '' : `
 * @type {import('micromesh/config').StandardSchemaV1<unknown, { greeting: string }>}`}
 */
const greetingSchema${ts ? ': StandardSchemaV1<unknown, { greeting: string }>' : ''} = {
  '~standard': {
    version: 1,
    vendor: '${n.service}',
    validate: (value) => {
      const g = ${as('value', ts ? '{ greeting?: unknown } | undefined' : '{ greeting?: unknown }', true)}?.greeting;
      return typeof g === 'string' && g.length > 0 ? { value: { greeting: g } } : { issues: [{ message: 'must be a non-empty string', path: ['greeting'] }] };
    },
  },
};

const USAGE = 'usage: node ${entry} [--address HOST:PORT] [--gossip HOST:PORT] [--join HOST:PORT,...] [--no-mdns]';
const options = ${as(`{
  address: { type: 'string', default: '0.0.0.0:0' }, // RPC listen address
  gossip: { type: 'string' }, // SWIM (membership) address; default: the RPC host, a free port
  join: { type: 'string', default: process.env.MICROMESH_JOIN ?? '' }, // gossip addresses of peers to join
  'no-mdns': { type: 'boolean', default: false }, // seeds only, no multicast
}`, 'const')};
let flags;
try {
  flags = parseArgs({ options }).values;
} catch (err) {
  console.error(\`\${err}\\n\${USAGE}\`);
  process.exit(2);
}

const { version } = JSON.parse(readFileSync(new URL('${ts ? '../' : './'}package.json', import.meta.url), 'utf8'));
const handler = new ${endpoints}();
const service = createService({
  name: '${n.service}',
  version,
  address: flags.address,
  mesh: { join: flags.join.split(',').filter(Boolean), mdns: !flags['no-mdns'], gossipAddress: flags.gossip },
}).handle(${handled}, handler);

await service.start();
// The greeting lives in the mesh's key/value store, live:
// \`npx micromesh kv put ${n.service}/greeting Hola\` changes what every node answers.
const config = await loadConfig({
  sources: [mesh(service.kv, '${n.service}', { default: { greeting: 'Hello' } })],
  schema: greetingSchema,
});
handler.greeting = config.value.greeting;
config.watch('greeting', (now) => { handler.greeting = ${as('now', 'string')}; });
config.onError((err) => console.error(\`config refused: \${err}\`));
const gossip = service.mesh?.swim.address;
// One JSON line on stdout, as \`micromesh run\` prints: where the service listens.
console.log(JSON.stringify({ service: service.name, id: service.id, address: service.address, gossip }));
if (service.mesh?.mdnsError) console.error(\`mDNS unavailable here (\${service.mesh.mdnsError.detail}); peers must --join \${gossip}\`);
console.error(\`try: npx micromesh --join \${gossip} call ${n.service} ${endpoints}.Hello '{"name":"Ada"}'   (Ctrl-C stops)\`);
await service.run();
`;
}

/**
 * client.js (client.ts with `proto`: through the generated client, in
 * protobuf): calls the service by name through the mesh (`npm run call`).
 */
export function clientJs(n: ProjectNames, proto?: ProtoNames): string {
  const ts = proto !== undefined;
  const endpoints = proto?.service ?? n.handler;
  const calls = proto
    ? `const greeter = new ${proto.service}Client(client.client, { service: '${n.service}' });
  console.log((await greeter.hello({ name: flags.name })).msg);
  for await (const m of greeter.stream({ name: flags.name, count: 3 })) console.log(m.msg);`
    : `console.log(await client.client.call('${n.service}', '${n.handler}.Hello', { name: flags.name }));
  for await (const m of await client.client.stream('${n.service}', '${n.handler}.Stream', { name: flags.name, count: 3 })) console.log(m);`;
  return `${ts ? '' : '// @ts-check\n'}// Calls ${n.service} by name through the mesh, as another service would (\`npm run call\`):
// joins the mesh (mDNS finds peers on the LAN; --join HOST:PORT, the gossip address
// \`npm start\` printed, where multicast does not reach), waits until the registry
// lists ${n.service}, calls ${endpoints}.Hello and ${endpoints}.Stream${proto ? ' (in protobuf)' : ''}, then leaves.
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { createService } from 'micromesh';
${proto ? `import { ${proto.service}Client } from './${proto.gen}_micromesh.js';\n` : ''}
const USAGE = 'usage: node ${ts ? 'dist/' : ''}client.js [--name NAME] [--join HOST:PORT,...] [--no-mdns] [--address HOST:PORT]';
const options = ${ts ? '' : '/** @type {const} */ ('}{
  name: { type: 'string', default: 'World' }, // who to greet
  join: { type: 'string', default: process.env.MICROMESH_JOIN ?? '' },
  'no-mdns': { type: 'boolean', default: false },
  address: { type: 'string', default: '0.0.0.0:0' }, // this client's RPC address (peers gossip with it)
}${ts ? ' as const' : ')'};
let flags;
try {
  flags = parseArgs({ options }).values;
} catch (err) {
  console.error(\`\${err}\\n\${USAGE}\`);
  process.exit(2);
}

const client = createService({
  name: '${n.client}',
  address: flags.address,
  mesh: { join: flags.join.split(',').filter(Boolean), mdns: !flags['no-mdns'] },
});
await client.start();
try {
  // Joining takes a moment: wait until the registry lists a node of ${n.service}.
  for (let waited = 0; (await client.registry.getService('${n.service}')).length === 0; waited += 50) {
    if (waited >= 10_000) throw new Error('${n.service} not found in the mesh within 10 s (is \`npm start\` running? else try --join HOST:PORT)');
    await sleep(50);
  }
  ${calls}
} catch (err) {
  console.error(\`error: \${err instanceof Error ? err.message : err}\`);
  process.exitCode = 1;
} finally {
  await client.stop();
}
`;
}

/** test/service.test.js: the service in-process, called through a client (`npm test`). */
export function testJs(n: ProjectNames): string {
  return `// @ts-check
// ${n.service} in-process and off the mesh (mesh: false: an in-memory registry,
// RPC on 127.0.0.1, no gossip, no mDNS), called through its client the way
// other services call it. \`npm test\` runs it with node's test runner.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createService } from 'micromesh';
import { ${n.handler} } from '../handler.js';

const service = createService({ name: '${n.service}', mesh: false }).handle('${n.handler}', new ${n.handler}());
before(() => service.start());
after(() => service.stop());

/**
 * Opens a stream and reads it to the end.
 * @param {unknown} request
 */
async function streamAll(request) {
  const msgs = [];
  for await (const m of await service.client.stream('${n.service}', '${n.handler}.Stream', request)) msgs.push(m);
  return msgs;
}

test('${n.handler}.Hello greets by name', async () => {
  assert.deepEqual(await service.client.call('${n.service}', '${n.handler}.Hello', { name: 'Ada' }), { msg: 'Hello Ada' });
});

test('${n.handler}.Hello without a name fails with BAD_REQUEST', async () => {
  await assert.rejects(service.client.call('${n.service}', '${n.handler}.Hello', {}), { code: 'BAD_REQUEST', status: 400 });
});

test('${n.handler}.Stream streams count greetings', async () => {
  assert.deepEqual(await streamAll({ name: 'Ada', count: 3 }), [
    { msg: 'Hello Ada #1' }, { msg: 'Hello Ada #2' }, { msg: 'Hello Ada #3' },
  ]);
});

test('${n.handler}.Stream checks its request too', async () => {
  await assert.rejects(streamAll({ name: 'Ada', count: 0 }), { code: 'BAD_REQUEST' });
});

test('a caller that stops reading cancels the stream', async () => {
  const msgs = [];
  // 1000 greetings 50 ms apart would take 50 s: the handler stops when ctx.signal fires.
  for await (const m of await service.client.stream('${n.service}', '${n.handler}.Stream', { name: 'Ada', count: 1000, intervalMs: 50 })) {
    msgs.push(m);
    if (msgs.length === 2) break;
  }
  assert.equal(msgs.length, 2);
});
`;
}
