// An in-process mesh on loopback for the agent's tests: N greeter nodes joined by seed, fast SWIM.
import { createService, silentLogger, type Service } from '../../src/index.ts';

export const FAST_SWIM = { probeIntervalMs: 200, probeTimeoutMs: 100, gossipIntervalMs: 50 };

export async function startNode(name: string, seed?: string, extra: Partial<Parameters<typeof createService>[0]> = {}): Promise<Service> {
  const s = createService({
    name, address: '127.0.0.1:0', logger: silentLogger,
    mesh: { mdns: false, gossipAddress: '127.0.0.1:0', join: seed === undefined ? [] : [seed], profile: 'local', swim: FAST_SWIM },
    ...extra,
  });
  s.handle('Greeter', { hello: (r: { name?: string }) => ({ msg: `Hello ${r?.name ?? ''}` }) });
  await s.start();
  return s;
}

/** Polls `fn` every 20 ms until `ok`; throws naming `what` after `ms`. */
export async function eventually<T>(fn: () => Promise<T> | T, ok: (v: T) => boolean, what: string, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  let last: T | undefined;
  while (Date.now() < end) {
    last = await fn();
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)?.slice(0, 1000)}`);
}
