import * as v from 'valibot';
import { config, tryParseHostPort } from '../index.ts';

const { bool, definedOnly, intIn, parseConfig, str } = config;

/** The agent's settings. Every field optional on input. */
export interface AgentConfig {
  /** Consul's HTTP API, `host:port`; empty turns it off. Default `127.0.0.1:8500`. */
  httpAddress: string;
  /** Consul's DNS (UDP and TCP), `host:port`; empty turns it off. Default `127.0.0.1:8600`. */
  dnsAddress: string;
  /** Binding either to anything but loopback must be asked for (it is then logged as a warning). Default false. */
  allowPublicBind: boolean;
  /** Consul's datacenter. Default: the mesh's cluster name (`dc1` off the mesh). */
  datacenter: string | undefined;
  /** This node's Consul name. Default: its node id as a DNS label. */
  nodeName: string | undefined;
  /** DNS domain. Default `consul`. */
  domain: string;
  /** TTL of every DNS record, s. [0, 86400], default 0 (Consul's: nothing cached). */
  dnsTtlSeconds: number;
  /** ACL token writes must carry (`X-Consul-Token`, `?token=`). Default none: writes open (loopback only by default). */
  token: string | undefined;
  /** Services registered through this agent at most. [1, 10000], default 256. */
  maxServices: number;
  /** Checks per service at most. [1, 64], default 16. */
  maxChecksPerService: number;
  /** Largest request body, bytes. [1024, 16777216], default 65536. */
  bodyLimitBytes: number;
  /** Check output kept, bytes. [64, 1048576], default 4096 (Consul's check_output_max_size). */
  checkOutputBytes: number;
  /** Largest PUT /v1/kv body, bytes (the store has its own limit, kv.valueMaxBytes). [1, 16777216], default 524288 (Consul's). */
  kvValueMaxBytes: number;
}

export type AgentConfigInput = Partial<AgentConfig>;

export const AGENT_DEFAULTS: AgentConfig = {
  httpAddress: '127.0.0.1:8500',
  dnsAddress: '127.0.0.1:8600',
  allowPublicBind: false,
  datacenter: undefined,
  nodeName: undefined,
  domain: 'consul',
  dnsTtlSeconds: 0,
  token: undefined,
  maxServices: 256,
  maxChecksPerService: 16,
  bodyLimitBytes: 65_536,
  checkOutputBytes: 4096,
  kvValueMaxBytes: 524_288,
};

const address = v.pipe(v.string('must be host:port'), v.check((a) => a === '' || tryParseHostPort(a) !== undefined, 'must be host:port with a port in [0, 65535], or empty for off'));
const label = (what: string) => v.pipe(str(63), v.regex(/^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$/, `must be a DNS label (letters, digits, -) naming the ${what}`));

const schema = v.strictObject({
  httpAddress: v.optional(address),
  dnsAddress: v.optional(address),
  allowPublicBind: v.optional(bool()),
  datacenter: v.optional(label('datacenter')),
  nodeName: v.optional(label('node')),
  domain: v.optional(v.pipe(str(253), v.regex(/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?\.?$/, 'must be a domain name like consul or mesh.internal'))),
  dnsTtlSeconds: v.optional(intIn(0, 86_400)),
  token: v.optional(v.pipe(str(256), v.minLength(1, 'must not be empty'))),
  maxServices: v.optional(intIn(1, 10_000)),
  maxChecksPerService: v.optional(intIn(1, 64)),
  bodyLimitBytes: v.optional(intIn(1024, 16_777_216)),
  checkOutputBytes: v.optional(intIn(64, 1_048_576)),
  kvValueMaxBytes: v.optional(intIn(1, 16_777_216)),
});

/** Validates `input`; errors name the field (`agent.field`), what is allowed and the value. */
export function resolveAgentConfig(input: AgentConfigInput | undefined): AgentConfig {
  const given = parseConfig(schema, definedOnly(input ?? {}), 'agent');
  return { ...AGENT_DEFAULTS, ...definedOnly(given) } as AgentConfig;
}

/** Whether `address` binds loopback only (127.0.0.0/8, ::1, localhost). */
export function isLoopback(address: string): boolean {
  const host = tryParseHostPort(address)?.host ?? '';
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}
