/**
 * protoc-gen-micromesh's generator: for each `service` of a .proto file,
 * next to protoc-gen-es's `<file>_pb` (messages and the GenService), a
 * `<file>_micromesh` file with
 *   - `<Name>Handler`, the typed interface an implementation satisfies;
 *   - `<Name>Definition`, what `service.handle(<Name>Definition, impl)` takes;
 *   - `<Name>Client`, `new <Name>Client(service.client).hello({name})`,
 *     streams as typed async iterables or ClientStreams.
 * Go Micro's protoc-gen-micro made the same three from the same input.
 */
import type { DescMethod, DescService } from '@bufbuild/protobuf';
import { createEcmaScriptPlugin, type GeneratedFile, type Schema } from '@bufbuild/protoplugin';

/** The runtime the generated code imports; `runtime=<module>` overrides it (tests point it at the sources). */
interface Options {
  runtime: string;
}

export function micromeshPlugin(version: string) {
  return createEcmaScriptPlugin<Options>({
    name: 'protoc-gen-micromesh',
    version: `v${version}`,
    parseOptions: (raw) => {
      const o: Options = { runtime: 'micromesh' };
      for (const { key, value } of raw) {
        if (key === 'runtime') o.runtime = value;
        else throw new Error(`unknown option "${key}" (protoc-gen-micromesh takes runtime=<module>)`);
      }
      return o;
    },
    generateTs,
  });
}

function generateTs(schema: Schema<Options>): void {
  const rt = schema.options.runtime;
  for (const file of schema.files) {
    if (file.services.length === 0) continue;
    const f = schema.generateFile(`${file.name}_micromesh.ts`);
    f.preamble(file);
    for (const service of file.services) service1(f, service, rt);
  }
}

function service1(f: GeneratedFile, s: DescService, rt: string): void {
  const HandlerContext = f.import('HandlerContext', rt, true);
  const ServiceDefinition = f.import('ServiceDefinition', rt, true);
  const CallOptions = f.import('CallOptions', rt, true);
  const Client = f.import('Client', rt, true);
  const ClientStream = f.import('ClientStream', rt, true);
  const protoService = f.import('protoService', `${rt}/proto`);
  const ProtoClientBase = f.import('ProtoClientBase', `${rt}/proto`);
  const ProtoClientOptions = f.import('ProtoClientOptions', `${rt}/proto`, true);
  const MessageInitShape = f.import('MessageInitShape', '@bufbuild/protobuf', true);
  const handler = `${s.name}Handler`;
  const init = (m: DescMethod['output']) => [MessageInitShape, '<typeof ', f.importSchema(m, true), '>'];

  // The handler interface.
  f.print(f.jsDoc(`What serves ${s.typeName}: pass it with ${s.name}Definition to service.handle().`));
  f.print(f.export('interface', handler), ' {');
  for (const m of s.methods) {
    const req = f.importShape(m.input);
    const res = init(m.output);
    f.print(f.jsDoc(m, '  '));
    switch (m.methodKind) {
      case 'unary':
        f.print('  ', m.localName, '(request: ', req, ', ctx: ', HandlerContext, '): ', ...res, ' | Promise<', ...res, '>;');
        break;
      case 'server_streaming':
        f.print('  ', m.localName, '(request: ', req, ', ctx: ', HandlerContext, '): AsyncIterable<', ...res, '>;');
        break;
      case 'client_streaming':
        f.print('  ', m.localName, '(requests: AsyncIterable<', req, '>, ctx: ', HandlerContext, '): ', ...res, ' | Promise<', ...res, '>;');
        break;
      case 'bidi_streaming':
        f.print('  ', m.localName, '(requests: AsyncIterable<', req, '>, ctx: ', HandlerContext, '): AsyncIterable<', ...res, '>;');
        break;
    }
  }
  f.print('}');
  f.print();

  // The definition.
  f.print(f.jsDoc(`${s.typeName} as micromesh serves it: endpoints ${s.methods.map((m) => `${s.name}.${m.name}`).join(', ')}.`));
  f.print(f.export('const', `${s.name}Definition`), ': ', ServiceDefinition, '<', handler, '> = ', protoService, '<', handler, '>(', f.importSchema(s), ');');
  f.print();

  // The client.
  f.print(f.jsDoc(`Calls ${s.typeName} on the service "${s.name.toLowerCase()}" (or \`opts.service\`), in protobuf unless \`opts.contentType\` says otherwise.`));
  f.print(f.export('class', `${s.name}Client`), ' extends ', ProtoClientBase, '<', handler, '> {');
  f.print('  constructor(client: ', Client, ', opts?: ', ProtoClientOptions, ') {');
  f.print('    super(client, ', s.name, 'Definition, opts);');
  f.print('  }');
  for (const m of s.methods) {
    const req = init(m.input);
    const res = f.importShape(m.output);
    f.print();
    f.print(f.jsDoc(m, '  '));
    switch (m.methodKind) {
      case 'unary':
        f.print('  ', m.localName, '(request: ', ...req, ', opts?: ', CallOptions, '): Promise<', res, '> {');
        f.print('    return this.rpc.', m.localName, '(request as never, opts) as Promise<', res, '>;');
        break;
      case 'server_streaming':
        f.print('  ', m.localName, '(request: ', ...req, ', opts?: ', CallOptions, '): AsyncIterable<', res, '> {');
        f.print('    return this.rpc.', m.localName, '(request as never, opts) as AsyncIterable<', res, '>;');
        break;
      default:
        f.print('  ', m.localName, '(opts?: ', CallOptions, '): Promise<', ClientStream, '<', ...req, ', ', res, '>> {');
        f.print('    return this.rpc.', m.localName, '(opts) as unknown as Promise<', ClientStream, '<', ...req, ', ', res, '>>;');
        break;
    }
    f.print('  }');
  }
  f.print('}');
  f.print();
}
