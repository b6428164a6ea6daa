import type { Clock, Random } from '../clock/types.ts';
import type { Logger } from '../log/types.ts';
import { MdnsDiscovery } from '../mdns/discovery.ts';
import { formatHostPort, parseHostPort } from '../net/address.ts';
import { isUnspecified, primaryIPv4 } from '../net/interfaces.ts';
import { MeshRegistry } from '../registry/mesh.ts';
import { createSwimNode } from '../swim/node.ts';
import { UdpNetwork } from '../transport/udp.ts';
import type { Transport } from '../transport/types.ts';
import { MeshNode } from './node.ts';
import type { MeshOptions } from './types.ts';

export interface MeshBuild {
  node: MeshNode;
  registry: MeshRegistry;
}

/**
 * Builds the mesh side of a service: SWIM on `gossipAddress` (or the RPC
 * host with a free port), mDNS announcing it, and a mesh registry. Nothing
 * binds until `MeshNode.start`.
 */
export function buildMesh(o: MeshOptions, parts: {
  nodeId: string; rpcBind: string; clock: Clock; random: Random; logger: Logger; streams: Transport;
}): MeshBuild {
  const { clock, random, logger } = parts;
  const rpcHost = parseHostPort(parts.rpcBind).host;
  const gossipBind = o.gossipAddress ?? formatHostPort(rpcHost, 0);
  const gossipHost = parseHostPort(gossipBind).host;
  // Announce a reachable address: a wildcard bind announces the primary IPv4 with the bound port.
  const advertise = isUnspecified(gossipHost) ? formatHostPort(primaryIPv4(), 0) : undefined;
  const swim = createSwimNode({
    name: parts.nodeId,
    bindAddress: gossipBind,
    advertiseAddress: advertise,
    profile: o.profile ?? 'lan',
    config: { ...o.swim, clusterName: o.cluster ?? 'micromesh' },
    packets: o.packets ?? new UdpNetwork(),
    streams: o.streams ?? parts.streams,
    clock, random, logger: logger.child({ component: 'swim' }),
    keys: o.keys,
  });
  const mdnsOn = o.mdns !== false;
  const discovery = mdnsOn
    ? new MdnsDiscovery({
      cluster: o.cluster ?? 'micromesh',
      config: typeof o.mdns === 'object' ? o.mdns : {},
      clock, random, logger: logger.child({ component: 'mdns' }),
    })
    : undefined;
  const registry = new MeshRegistry({ clock, logger });
  const node = new MeshNode({
    swim, discovery, registry, clock, random, logger,
    seeds: o.join ?? [], rejoinIntervalMs: o.rejoinIntervalMs ?? 30_000,
  });
  return { node, registry };
}

