// How client commands reach the mesh: a read-only look (no member is added,
// so nothing is left behind), then calls over a client-only service.
import { SystemClock, SystemRandom } from '../../src/clock/index.ts';
import type { Logger } from '../../src/log/types.ts';
import { createService } from '../../src/mesh/service.ts';
import { readMesh, type MeshView } from '../../src/mesh/snapshot.ts';
import type { Service } from '../../src/mesh/types.ts';
import { TcpTransport } from '../../src/transport/tcp.ts';
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
