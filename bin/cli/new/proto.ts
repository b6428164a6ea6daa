// The files of a project `micromesh new NAME --proto` generates that the
// plain one has no counterpart for: the .proto contract, buf's
// configuration, the TypeScript setup, the handler implementing the
// generated interface, and its test. main.ts and client.ts come from the
// plain project's templates (code.ts), package.json and README.md from
// proto-docs.ts.
import type { ProjectNames, ProtoNames } from './names.ts';

/** proto/<name>/v1/<name>.proto: the contract, a unary and a server-streaming rpc. */
export function protoFile(n: ProjectNames, p: ProtoNames): string {
  return `// ${n.service}'s contract. \`npm run build\` generates its TypeScript into gen/
// (messages, the ${p.service}Handler interface, ${p.service}Definition and ${p.service}Client);
// micromesh serves the rpcs as the endpoints ${p.service}.Hello and ${p.service}.Stream,
// in protobuf and in JSON (the messages' proto3 JSON form).
syntax = "proto3";

package ${p.package};

message HelloRequest {
  string name = 1;
}

message HelloResponse {
  string msg = 1;
}

message StreamRequest {
  string name = 1;
  // How many greetings; 0 (unset) means 3.
  int32 count = 2;
  // Milliseconds between greetings.
  int32 interval_ms = 3;
}

service ${p.service} {
  // Greets one caller, with the greeting from mesh config (default Hello).
  rpc Hello(HelloRequest) returns (HelloResponse);
  // Streams \`count\` greetings, one every \`interval_ms\`.
  rpc Stream(StreamRequest) returns (stream HelloResponse);
}
`;
}

export function bufYaml(): string {
  return `# buf's module: the .proto files under proto/, a directory per package.
version: v2
modules:
  - path: proto
`;
}

/**
 * buf.gen.yaml: both plugins run from node_modules/.bin, which npm puts on
 * PATH (hence `npm run generate` or `npx buf generate`, not a global buf).
 * TypeScript output with `.js` import specifiers, as tsc's NodeNext wants.
 */
export function bufGenYaml(): string {
  return `# \`npm run generate\` (run by \`npm run build\`) writes gen/ from proto/:
# protoc-gen-es the messages (<file>_pb.ts), protoc-gen-micromesh (installed
# with micromesh) the handler interface, definition and client (<file>_micromesh.ts).
# Both come from node_modules/.bin, which npm and npx put on PATH.
version: v2
clean: true
plugins:
  - local: protoc-gen-es
    out: gen
    # enums as const objects: TypeScript's erasableSyntaxOnly and Node's type stripping refuse enum
    opt: [target=ts, import_extension=js, erasable_syntax=true]
  - local: protoc-gen-micromesh
    out: gen
    opt: [target=ts, import_extension=js]
`;
}

/** tsconfig.json: Node's ES modules, strict, compiled into dist/ (sources, gen/ and test/). */
export function tsconfig(): string {
  const config = {
    compilerOptions: {
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      strict: true,
      skipLibCheck: true,
      types: ['node'],
      rootDir: '.',
      outDir: 'dist',
    },
    include: ['*.ts', 'gen/**/*.ts', 'test/**/*.ts'],
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

/** handler.ts: the handler, typed by the generated interface. */
export function handlerTs(n: ProjectNames, p: ProtoNames): string {
  const S = p.service;
  return `// The ${S} handler. It implements ${S}Handler, the interface protoc-gen-micromesh
// generated from proto/${p.file}: main.ts serves it with
// service.handle(${S}Definition, handler) as the endpoints ${S}.Hello and ${S}.Stream.
import { setTimeout as sleep } from 'node:timers/promises';
import { badRequest, type HandlerContext } from 'micromesh';
import type { ${S}Handler } from './${p.gen}_micromesh.js';
import type { HelloRequest, StreamRequest } from './${p.gen}_pb.js';

export class ${S} implements ${S}Handler {
  /** The greeting word; main.ts keeps it on the mesh config \`${n.service}/greeting\` (default Hello). */
  greeting = 'Hello';

  /**
   * Unary: one request, one response. A bad request throws badRequest(): the
   * caller gets a MeshError with code 'BAD_REQUEST' (status 400), never retried.
   */
  hello(req: HelloRequest) {
    return { msg: this.greet(req.name) };
  }

  /**
   * Server streaming (an async generator): \`count\` greetings, one every
   * \`intervalMs\`. proto3 cannot tell 0 from unset, so count 0 means 3. Stops
   * as soon as ctx.signal fires: the caller cancelled or stopped reading, or
   * its deadline passed.
   */
  async *stream(req: StreamRequest, ctx: HandlerContext) {
    const msg = this.greet(req.name);
    const count = req.count === 0 ? 3 : req.count;
    if (count < 1 || count > 1000) throw badRequest('count must be in [1, 1000]', '${n.service}');
    if (req.intervalMs < 0 || req.intervalMs > 10_000) throw badRequest('intervalMs must be in [0, 10000]', '${n.service}');
    for (let i = 1; i <= count && !ctx.signal.aborted; i++) {
      yield { msg: \`\${msg} #\${i}\` };
      // The signal also cuts the wait short; the loop then ends.
      if (req.intervalMs > 0 && i < count) await sleep(req.intervalMs, undefined, { signal: ctx.signal }).catch(() => {});
    }
  }

  private greet(name: string): string {
    if (name.trim() === '') throw badRequest('name is required', '${n.service}');
    if (name.length > 100) throw badRequest('name must be at most 100 characters', '${n.service}');
    return \`\${this.greeting} \${name}\`;
  }
}
`;
}

/** test/service.test.ts: the service in-process, called in protobuf and in JSON (`npm test`). */
export function testTs(n: ProjectNames, p: ProtoNames): string {
  const S = p.service;
  return `// ${n.service} in-process and off the mesh (mesh: false: an in-memory registry,
// RPC on 127.0.0.1, no gossip, no mDNS), called the way other services call
// it: through the generated client (protobuf) and by endpoint name (JSON).
// \`npm test\` builds, then runs it with node's test runner.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createService } from 'micromesh';
import { ${S}Client, ${S}Definition } from '../${p.gen}_micromesh.js';
import { ${S} } from '../handler.js';

const service = createService({ name: '${n.service}', mesh: false }).handle(${S}Definition, new ${S}());
const client = new ${S}Client(service.client, { service: '${n.service}' });
before(() => service.start());
after(() => service.stop());

test('${S}.Hello greets by name, in protobuf', async () => {
  assert.equal((await client.hello({ name: 'Ada' })).msg, 'Hello Ada');
});

test('${S}.Hello answers JSON in JSON', async () => {
  assert.deepEqual(await service.client.call('${n.service}', '${S}.Hello', { name: 'Ada' }), { msg: 'Hello Ada' });
});

test('${S}.Hello without a name fails with BAD_REQUEST', async () => {
  await assert.rejects(client.hello({}), { code: 'BAD_REQUEST', status: 400 });
});

test('${S}.Stream streams count greetings', async () => {
  const msgs = [];
  for await (const m of client.stream({ name: 'Ada', count: 3 })) msgs.push(m.msg);
  assert.deepEqual(msgs, ['Hello Ada #1', 'Hello Ada #2', 'Hello Ada #3']);
});

test('${S}.Stream checks its request too', async () => {
  await assert.rejects(async () => {
    for await (const m of client.stream({ name: 'Ada', count: -1 })) assert.fail(\`unexpected \${m.msg}\`);
  }, { code: 'BAD_REQUEST' });
});

test('a caller that stops reading cancels the stream', async () => {
  const msgs = [];
  // 1000 greetings 50 ms apart would take 50 s: the handler stops when ctx.signal fires.
  for await (const m of client.stream({ name: 'Ada', count: 1000, intervalMs: 50 })) {
    msgs.push(m);
    if (msgs.length === 2) break;
  }
  assert.equal(msgs.length, 2);
});
`;
}
