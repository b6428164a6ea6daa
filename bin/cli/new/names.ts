// The names `micromesh new NAME` derives from NAME: the service name, the npm
// package name, the handler (a JavaScript class and the endpoints' prefix).
import { builtinModules } from 'node:module';
import { MeshError } from '../../../src/errors/errors.ts';

/**
 * NAME is both a service name (`^[\w.-]{1,128}$`, createService's rule) and
 * the npm package name of the project, so it is their intersection: npm wants
 * lowercase and no leading `.` or `_`; a leading letter also keeps the
 * handler's class name an identifier. Hence a lowercase letter, then up to
 * 127 lowercase letters, digits, `.`, `_` or `-`.
 */
export const NAME_PATTERN = /^[a-z][a-z0-9._-]{0,127}$/;

export interface ProjectNames {
  /** The service name and the package name, e.g. `demo-svc`. */
  service: string;
  /** The handler: class name and endpoint prefix, e.g. `DemoSvc` (endpoints `DemoSvc.Hello`). */
  handler: string;
  /** The name client.js joins the mesh with (a service name too: at most 128 characters). */
  client: string;
}

/** Checks NAME (throws INVALID_ARGUMENT saying why) and derives the other names from it. */
export function projectNames(name: string): ProjectNames {
  if (!NAME_PATTERN.test(name)) {
    throw new MeshError('INVALID_ARGUMENT', `name ${JSON.stringify(name)} must be a lowercase letter then at most 127 lowercase letters, digits, '.', '_' or '-' (it names the service and its npm package)`);
  }
  // npm refuses to install a package into a project of the same name (ENOSELF),
  // and takes no core module's name for a new package.
  if (name === 'micromesh') throw new MeshError('INVALID_ARGUMENT', 'name "micromesh" is taken: the project depends on the micromesh package, and npm cannot install a package into one of the same name');
  if (builtinModules.includes(name) || name === 'node_modules' || name === 'favicon.ico') {
    throw new MeshError('INVALID_ARGUMENT', `name ${JSON.stringify(name)} is a Node.js core module or reserved name, which npm does not accept for a package (try "${name}-service")`);
  }
  return { service: name, handler: handlerName(name), client: `${name.slice(0, 128 - '-client'.length)}-client` };
}

/**
 * PascalCase of NAME's words (`demo-svc` → `DemoSvc`, `billing.v2` →
 * `BillingV2`). A name that would shadow a global the generated code may use
 * (`math` → `Math`, `promise` → `Promise`) gets a `Handler` suffix.
 */
export function handlerName(name: string): string {
  const pascal = name.split(/[._-]+/).filter((w) => w.length > 0).map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');
  return Object.hasOwn(globalThis, pascal) ? `${pascal}Handler` : pascal;
}

/** The protobuf names of a `--proto` project, e.g. for `demo-svc`. */
export interface ProtoNames {
  /** The proto package, `demo_svc.v1`: NAME in snake case (`buf lint`'s rule), versioned. */
  package: string;
  /** The proto service, `DemoSvc`: the handler name, so the endpoints are the same (`DemoSvc.Hello`). */
  service: string;
  /** The .proto file within proto/, `demo_svc/v1/demo_svc.proto` (its directory is its package). */
  file: string;
  /** The generated modules without `_pb.js`/`_micromesh.js`, from the project root: `gen/demo_svc/v1/demo_svc`. */
  gen: string;
}

// What the .proto and protoc-gen-es's <file>_pb.ts declare besides the service.
const PROTO_TAKEN = new Set(['HelloRequest', 'HelloResponse', 'StreamRequest'].flatMap((m) => [m, `${m}Schema`]));

export function protoNames(n: ProjectNames): ProtoNames {
  const snake = n.service.replaceAll(/[.-]/g, '_');
  // A service named like a message would clash with it in the .proto or in <file>_pb.ts.
  const service = PROTO_TAKEN.has(n.handler) ? `${n.handler}Service` : n.handler;
  return { package: `${snake}.v1`, service, file: `${snake}/v1/${snake}.proto`, gen: `gen/${snake}/v1/${snake}` };
}
