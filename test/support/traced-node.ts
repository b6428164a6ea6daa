// A mesh member with an OpenTelemetry SDK, run as its own process for the
// tracing tests: `tsx test/support/traced-node.ts NAME [--next SERVICE]
// [--join GOSSIP] [--subscribe TOPIC]`. It registers a BasicTracerProvider
// (in-memory exporter) and an AsyncLocalStorageContextManager globally, as
// an application would, then starts service NAME on 127.0.0.1 (mDNS off).
// `Chain.Call` calls `Chain.Call` on --next, or answers `{ at: NAME }` at
// the end of the chain; a --subscribe subscriber calls --next's chain too,
// when there is one.
//
// Prints {"ready", "gossip", "rpc"} once started; then takes one JSON
// command per stdin line and answers one JSON line each:
//   {"cmd":"call","service":S}       → {"called":S, "result"} (or "error")
//   {"cmd":"publish","topic":T}      → {"published":T}
//   {"cmd":"wait","services":[...],"topic":T} → {"waited":true} once those
//                                      services are listed and T has a subscriber
//   {"cmd":"spans"}                  → {"spans":[{name, kind, traceId, spanId, parentSpanId, status, attributes}]}
import { createInterface } from 'node:readline';
import { context, trace, SpanKind } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { createService, silentLogger, topicsOf } from 'micromesh';

const [name = 'node', ...rest] = process.argv.slice(2);
const flag = (f: string): string | undefined => {
  const i = rest.indexOf(f);
  return i >= 0 ? rest[i + 1] : undefined;
};
const next = flag('--next');
const join = flag('--join');
const topic = flag('--subscribe');

const exporter = new InMemorySpanExporter();
trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());

const svc = createService({
  name,
  address: '127.0.0.1:0',
  logger: silentLogger,
  mesh: { mdns: false, gossipAddress: '127.0.0.1:0', join: join === undefined ? [] : [join], profile: 'local' },
}).handle('Chain', {
  Call: () => (next === undefined ? { at: name } : svc.client.call(next, 'Chain.Call', {})),
});
if (topic !== undefined) {
  svc.subscribe(topic, async () => {
    if (next !== undefined) await svc.client.call(next, 'Chain.Call', {});
  });
}
await svc.start();

const say = (m: unknown): void => void process.stdout.write(`${JSON.stringify(m)}\n`);
say({ ready: name, gossip: svc.mesh!.swim.address, rpc: svc.address });

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitFor(services: string[], t: string | undefined): Promise<void> {
  for (;;) {
    const listed = await Promise.all(services.map(async (s) => (await svc.registry.getService(s).catch(() => [])).length > 0));
    const members = svc.mesh!.members?.members() ?? [];
    const subscribed = t === undefined || topicsOf(members).topics.some((row) => row.pattern === t && row.subscribers.length > 0);
    if (listed.every(Boolean) && subscribed) return;
    await sleep(20);
  }
}

createInterface({ input: process.stdin }).on('line', (line) => {
  const cmd = JSON.parse(line) as { cmd: string; service?: string; topic?: string; services?: string[] };
  void (async () => {
    switch (cmd.cmd) {
      case 'call':
        try {
          say({ called: cmd.service, result: await svc.client.call(cmd.service!, 'Chain.Call', {}) });
        } catch (err) {
          say({ called: cmd.service, error: String(err) });
        }
        break;
      case 'publish':
        await svc.client.publish(cmd.topic!, { from: name });
        say({ published: cmd.topic });
        break;
      case 'wait':
        await waitFor(cmd.services ?? [], cmd.topic);
        say({ waited: true });
        break;
      case 'spans':
        say({
          spans: exporter.getFinishedSpans().map((s) => ({
            name: s.name, kind: SpanKind[s.kind], traceId: s.spanContext().traceId, spanId: s.spanContext().spanId,
            parentSpanId: s.parentSpanContext?.spanId, status: s.status.code, attributes: s.attributes,
          })),
        });
        break;
    }
  })();
});

const stop = (): void => void svc.stop().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
process.stdin.once('end', stop);
