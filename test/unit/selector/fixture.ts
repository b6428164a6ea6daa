// Shared setup for the selector tests: a memory registry, virtual time, seeded chance.
import { MemoryRegistry } from '../../../src/registry/memory.ts';
import { VirtualClock } from '../../../src/clock/virtual.ts';
import { SeededRandom } from '../../../src/clock/seeded.ts';
import { DefaultSelector } from '../../../src/selector/selector.ts';
import type { SelectorConfig } from '../../../src/selector/config.ts';
import { MeshError } from '../../../src/errors/index.ts';
import type { Logger } from '../../../src/log/types.ts';
import type { Node, Registry, Service } from '../../../src/registry/types.ts';

export function node(id: string, metadata: Record<string, string> = {}): Node {
  return { id, address: `10.0.0.1:${9000 + id.length}`, metadata };
}

export function svc(name: string, version: string, nodes: Node[], endpoints: string[] = []): Service {
  return { name, version, metadata: {}, endpoints: endpoints.map((e) => ({ name: e, metadata: {} })), nodes };
}

/** A registry wrapper counting lookups and watches, to prove the hot path skips the registry. */
export class CountingRegistry implements Registry {
  readonly name = 'counting';
  lookups = 0;
  watches = 0;
  readonly inner: Registry;
  watchThrows = false;
  /** When set, lookups fail with UNAVAILABLE (a registry that is down). */
  lookupsFail = false;
  constructor(inner: Registry) {
    this.inner = inner;
  }
  register: Registry['register'] = (s, o) => this.inner.register(s, o);
  deregister: Registry['deregister'] = (s, o) => this.inner.deregister(s, o);
  listServices: Registry['listServices'] = (o) => this.inner.listServices(o);
  getService: Registry['getService'] = (n, o) => {
    this.lookups++;
    if (this.lookupsFail) return Promise.reject(new MeshError('UNAVAILABLE', 'registry is down'));
    return this.inner.getService(n, o);
  };
  watch: Registry['watch'] = (o) => {
    if (this.watchThrows) throw new Error('watch not supported');
    this.watches++;
    return this.inner.watch(o);
  };
}

export interface Fixture {
  clock: VirtualClock;
  random: SeededRandom;
  memory: MemoryRegistry;
  registry: CountingRegistry;
  selector: DefaultSelector;
}

export async function fixture(services: Service[], options: Partial<SelectorConfig> = {}, seed = 1, logger?: Logger): Promise<Fixture> {
  const clock = new VirtualClock();
  const random = new SeededRandom(seed);
  const memory = new MemoryRegistry({ clock });
  for (const s of services) await memory.register(s);
  const registry = new CountingRegistry(memory);
  const selector = new DefaultSelector({ registry, clock, random, options, logger });
  return { clock, random, memory, registry, selector };
}

/** Lets watch events reach the selector (a few microtask turns). */
export const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

export function three(name = 'greeter'): Service[] {
  return [svc(name, '1.0.0', [node('a'), node('b'), node('c')])];
}
