// How client commands reach the mesh: a read-only look (no member is added,
// so nothing is left behind), then calls over a client-only service.
import { SystemClock, SystemRandom } from '../../src/clock/index.ts';
import type { Logger } from '../../src/log/types.ts';
import { createService } from '../../src/mesh/service.ts';
import { readMesh, type MeshView } from '../../src/mesh/snapshot.ts';
import type { Service } from '../../src/mesh/types.ts';
import { TcpTransport } from '../../src/transport/tcp.ts';
import { JsonCodec } from '../../src/codec/json.ts';
import { MeshError } from '../../src/errors/index.ts';
import { StaticMembership } from '../../src/membership/static.ts';
import { DirectBroker } from '../../src/pubsub/direct.ts';
import { SUBS_KEY } from '../../src/pubsub/subs-record.ts';
import type { MeshFlags } from './options.ts';

export interface Connected {
  view: MeshView;
  /** A client-only service whose registry is the mesh as read. */
  service: Service;
}

export async function connect(m: MeshFlags, logger: Logger): Promise<Connected> {
  const clock = new SystemClock();
  const transport = new TcpTransport({ clock });
  // Calls (and record fetches) go through a service that never starts: it joins nothing.
  const fetcher = createService({ name: 'micromesh-cli', mesh: false, transport, logger, clock });
  try {
    const view = await readMesh({
      seeds: m.seeds, mdns: m.mdns, cluster: m.cluster, keys: m.keys,
      streams: transport, client: fetcher.client, clock, random: new SystemRandom(), logger,
    });
    await fetcher.stop();
    const service = createService({ name: 'micromesh-cli', mesh: false, registry: view.registry, transport, logger, clock });
    return { view, service };
  } catch (err) {
    await fetcher.stop();
    throw err;
  }
}

/**
 * Publishes one message straight to the subscribing nodes of the mesh as
 * read, without joining it, and waits until every copy was sent (and every
 * queue-group copy acknowledged). Returns how many nodes subscribe at all.
 */
export async function publishOnce(view: MeshView, svc: Service, topic: string, message: unknown,
  metadata: Record<string, string>, timeoutMs: number): Promise<number> {
  const membership = new StaticMembership(`micromesh-cli-${process.pid}`, view.records);
  const broker = new DirectBroker({ membership, client: svc.client, server: svc.server });
  await broker.start();
  try {
    const codec = new JsonCodec();
    await broker.publish(topic, codec.encode(message), { headers: { ...metadata, 'content-type': codec.contentType } });
    const end = Date.now() + timeoutMs;
    while (broker.stats().held > 0) {
      if (Date.now() > end) throw new MeshError('TIMEOUT', `${broker.stats().held} copies of the message still undelivered after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 10));
    }
    return view.records.filter((r) => r.data[SUBS_KEY] !== undefined).length;
  } finally {
    await broker.stop();
  }
}
