import * as v from 'valibot';
import { config } from '../index.ts';

const { bool, definedOnly, intIn, parseConfig, str } = config;

/** CORS, as moleculer-web configures it (micro api's was fixed, users asked for this). */
export interface CorsConfig {
  /** Allowed origins; `*` allows any (the origin is then reflected when credentials are on). Default `['*']`. */
  origins: string[];
  /** Default GET, HEAD, POST, PUT, PATCH, DELETE. */
  methods: string[];
  /** Request headers a browser may send. Default: reflect what the preflight asks for. */
  allowedHeaders: string[] | undefined;
  /** Response headers scripts may read. Default `X-Request-Id`. */
  exposedHeaders: string[];
  /** `Access-Control-Allow-Credentials`. Default false. */
  credentials: boolean;
  /** How long browsers cache a preflight, s. [0, 86400], default 600. */
  maxAgeS: number;
}

/** Settings of the HTTP layer shared by `micromesh api` and `micromesh sidecar`. Every field optional on input. */
export interface HttpConfig {
  /** Where to listen, `host:port`; `:8080` means every interface. Default `:8080` (api), `:8081` (sidecar). */
  address: string;
  /** Largest request body, bytes; larger gets 413 naming the limit. [1, 1073741824], default 1048576 (1 MiB). */
  bodyLimitBytes: number;
  /** Largest request head (request line and headers), bytes; larger gets 431. [1024, 1048576], default 16384. */
  maxHeaderBytes: number;
  /** Longest URL, bytes; longer gets 414. [64, 1048576], default 8192. */
  maxUrlBytes: number;
  /** Time allowed to send the request head (slowloris), ms. [100, 600000], default 10000. */
  headersTimeoutMs: number;
  /** Time allowed to send a whole request (head and body), ms. [100, 3600000], default 30000. */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this, ms. [100, 3600000], default 5000. */
  idleTimeoutMs: number;
  /** Deadline of a call when the request sets none, ms. [1, 3600000], default 10000. */
  callTimeoutMs: number;
  /** Longest deadline a `Timeout` header may ask for, ms. [1, 3600000], default 60000. */
  maxCallTimeoutMs: number;
  /** On stop, how long in-flight requests may finish before connections are closed, ms. [0, 600000], default 10000. */
  drainTimeoutMs: number;
  /** Path of micro's `/rpc` endpoint; empty turns it off. Default `/rpc`. */
  rpcPath: string;
  /** Prefix joined to resolved service names (`ns.greeter`); empty (default) since micromesh names are plain. */
  namespace: string;
  /** CORS; false turns it off. Default on, any origin. */
  cors: CorsConfig | false;
  /** Request headers passed as call metadata, lower case (besides the prefix). Default: see DEFAULT_METADATA_HEADERS. */
  metadataHeaders: string[];
  /** Headers with this prefix pass as metadata with the prefix removed (`X-Micro-Tenant` → `tenant`). Default `x-micro-`. */
  metadataPrefix: string;
  /** Largest WebSocket message, bytes. [1, 1073741824], default 1048576. */
  wsMaxMessageBytes: number;
  /** Bytes a streaming response may buffer toward a slow client before the call is paused. [1024, 67108864], default 65536. */
  streamHighWaterBytes: number;
}

/** Headers that become metadata without the prefix: tracing, identity of the caller, forwarding. */
export const DEFAULT_METADATA_HEADERS = [
  'authorization', 'traceparent', 'tracestate', 'baggage', 'x-request-id',
  'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-real-ip', 'user-agent', 'accept-language',
];

export const CORS_DEFAULTS: CorsConfig = {
  origins: ['*'],
  methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
  allowedHeaders: undefined,
  exposedHeaders: ['X-Request-Id'],
  credentials: false,
  maxAgeS: 600,
};

export const HTTP_DEFAULTS: HttpConfig = {
  address: ':8080',
  bodyLimitBytes: 1 << 20,
  maxHeaderBytes: 16384,
  maxUrlBytes: 8192,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  idleTimeoutMs: 5000,
  callTimeoutMs: 10_000,
  maxCallTimeoutMs: 60_000,
  drainTimeoutMs: 10_000,
  rpcPath: '/rpc',
  namespace: '',
  cors: CORS_DEFAULTS,
  metadataHeaders: DEFAULT_METADATA_HEADERS,
  metadataPrefix: 'x-micro-',
  wsMaxMessageBytes: 1 << 20,
  streamHighWaterBytes: 65536,
};

const list = v.array(str(256), 'must be a list of strings');
const pathError = 'must be empty or a path starting with /';
const path = v.pipe(v.string(pathError), v.regex(/^(\/[\w./-]*)?$/, pathError));

const corsSchema = v.strictObject({
  origins: v.optional(list),
  methods: v.optional(list),
  allowedHeaders: v.optional(list),
  exposedHeaders: v.optional(list),
  credentials: v.optional(bool()),
  maxAgeS: v.optional(intIn(0, 86400)),
});

const schema = v.strictObject({
  address: v.optional(str(300)),
  bodyLimitBytes: v.optional(intIn(1, 1 << 30)),
  maxHeaderBytes: v.optional(intIn(1024, 1 << 20)),
  maxUrlBytes: v.optional(intIn(64, 1 << 20)),
  headersTimeoutMs: v.optional(intIn(100, 600_000)),
  requestTimeoutMs: v.optional(intIn(100, 3_600_000)),
  idleTimeoutMs: v.optional(intIn(100, 3_600_000)),
  callTimeoutMs: v.optional(intIn(1, 3_600_000)),
  maxCallTimeoutMs: v.optional(intIn(1, 3_600_000)),
  drainTimeoutMs: v.optional(intIn(0, 600_000)),
  rpcPath: v.optional(path),
  namespace: v.optional(v.pipe(v.string(), v.regex(/^[\w.-]{0,128}$/, 'must be up to 128 letters, digits, ., _ or -'))),
  // Checked on its own below, so an error names the CORS field.
  cors: v.optional(v.union([v.literal(false), v.looseObject({})], 'must be false or CORS settings')),
  metadataHeaders: v.optional(list),
  metadataPrefix: v.optional(v.pipe(v.string(), v.regex(/^[\w-]{0,64}$/, 'must be up to 64 letters, digits, _ or -'))),
  wsMaxMessageBytes: v.optional(intIn(1, 1 << 30)),
  streamHighWaterBytes: v.optional(intIn(1024, 1 << 26)),
});

export type HttpConfigInput = Partial<Omit<HttpConfig, 'cors'>> & { cors?: Partial<CorsConfig> | false };

/** Validates `input` over `defaults`; errors name the field (`scope.field`), its range and the value. */
export function resolveHttpConfig(input: HttpConfigInput | undefined, defaults: Partial<HttpConfig> = {}, scope = 'http'): HttpConfig {
  const given = parseConfig(schema, definedOnly(input), scope);
  const base = { ...HTTP_DEFAULTS, ...definedOnly(defaults) };
  const cors = given.cors === false ? false
    : given.cors === undefined ? base.cors
      : { ...CORS_DEFAULTS, ...definedOnly(parseConfig(corsSchema, definedOnly(given.cors), `${scope}.cors`)) };
  return {
    ...base,
    ...definedOnly(given),
    cors,
    metadataHeaders: (given.metadataHeaders ?? base.metadataHeaders).map((h) => h.toLowerCase()),
    metadataPrefix: (given.metadataPrefix ?? base.metadataPrefix).toLowerCase(),
  } as HttpConfig;
}
