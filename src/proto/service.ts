import type { DescMethod, DescService } from '@bufbuild/protobuf';
import type { MethodDefinition, MethodKind, ServiceDefinition } from '../index.ts';
import { jsonSchemaOf } from './json-schema.ts';
import { protoType } from './message-type.ts';

const KINDS: Record<DescMethod['methodKind'], MethodKind> = {
  unary: 'unary', server_streaming: 'server', client_streaming: 'client', bidi_streaming: 'bidi',
};

/**
 * A protobuf service (protoc-gen-es's `GenService`, e.g. `Greeter`) as a
 * micromesh service definition: endpoints `Greeter.Hello` as Go Micro
 * names them (the proto's method names), served by the implementation's
 * lowerCamel methods (`hello`), with message types and the JSON Schemas of
 * their JSON forms. Generated code calls it; `Impl` is its handler interface.
 */
export function protoService<Impl = unknown>(desc: DescService): ServiceDefinition<Impl> {
  const methods: Record<string, MethodDefinition> = {};
  for (const m of desc.methods) {
    methods[m.name] = Object.freeze({
      local: m.localName,
      kind: KINDS[m.methodKind],
      types: Object.freeze({ request: protoType(m.input), response: protoType(m.output) }),
      schemas: Object.freeze({ request: jsonSchemaOf(m.input), response: jsonSchemaOf(m.output) }),
      metadata: { 'proto-service': desc.typeName },
    });
  }
  return Object.freeze({ name: desc.name, methods: Object.freeze(methods) });
}
