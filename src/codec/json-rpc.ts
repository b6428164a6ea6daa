import { MeshError, type ErrorCode } from '../errors/index.ts';
import { JsonCodec } from './json.ts';
import type { Codec } from './types.ts';

export const JSON_RPC_CONTENT_TYPE = 'application/json-rpc';
const VERSION = '2.0';

/**
 * JSON-RPC 2.0 framing (Go Micro's `application/json-rpc`, there 1.0): a
 * request body is `{"jsonrpc":"2.0","method":"Greeter.Hello","params":[req],"id":n}`
 * and a response `{"jsonrpc":"2.0","id":n,"result":res}` (or `error`, when a
 * JSON-RPC peer sends one). Routing still uses the frame's route; `method`
 * must agree with it. Each call and side gets its own copy (`perCall`).
 * Stream messages repeat the call's envelope and id.
 */
export class JsonRpcCodec implements Codec {
  readonly contentType = JSON_RPC_CONTENT_TYPE;
  private readonly json = new JsonCodec();
  private next = 1;

  perCall(endpoint: string, side: 'client' | 'server'): Codec {
    return new JsonRpcCall(this.json, endpoint, side, side === 'client' ? this.next++ : null);
  }

  /** Outside a call (no endpoint to name): a request envelope for `params`. */
  encode(value: unknown): Uint8Array {
    return new JsonRpcCall(this.json, '', 'client', 0).encode(value);
  }

  /** Outside a call: a request's params. */
  decode(bytes: Uint8Array): unknown {
    return new JsonRpcCall(this.json, '', 'server', null).decode(bytes);
  }
}

class JsonRpcCall implements Codec {
  readonly contentType = JSON_RPC_CONTENT_TYPE;
  private readonly side: 'client' | 'server';
  private readonly json: JsonCodec;
  private readonly endpoint: string;
  /** A client's own; a server's is the request's, echoed in each response. */
  private id: number | string | null;

  constructor(json: JsonCodec, endpoint: string, side: 'client' | 'server', id: number | string | null) {
    this.json = json;
    this.endpoint = endpoint;
    this.side = side;
    this.id = id;
  }

  encode(value: unknown): Uint8Array {
    // Inside the envelope JSON.stringify would write null for these: refuse, as the JSON codec does.
    if (typeof value === 'function' || typeof value === 'symbol') throw new MeshError('ENCODE_FAILED', `cannot encode a ${typeof value} as JSON`, { status: 500 });
    const params = value === undefined ? [] : [value];
    return this.json.encode(this.side === 'client'
      ? { jsonrpc: VERSION, method: this.endpoint, params, id: this.id }
      : { jsonrpc: VERSION, id: this.id, result: value ?? null });
  }

  decode(bytes: Uint8Array): unknown {
    const env = this.json.decode(bytes);
    if (env === null || typeof env !== 'object' || Array.isArray(env)) throw bad('expected a JSON-RPC object (a batch is not a call)');
    const e = env as Record<string, unknown>;
    if (e.jsonrpc !== VERSION) throw bad(`"jsonrpc" must be "${VERSION}"`);
    return this.side === 'server' ? this.request(e) : this.response(e);
  }

  private request(e: Record<string, unknown>): unknown {
    if (typeof e.method !== 'string') throw bad('"method" must be a string');
    if (this.endpoint !== '' && e.method !== this.endpoint) throw bad(`"method" is "${e.method}" but the call is to ${this.endpoint}`);
    const id = e.id;
    if (id !== undefined && id !== null && typeof id !== 'string' && typeof id !== 'number') throw bad('"id" must be a string, a number or null');
    this.id = id ?? null;
    const p = e.params;
    if (p === undefined) return undefined;
    // By position, Go Micro's one argument; by name, the request object itself.
    if (Array.isArray(p)) {
      if (p.length > 1) throw bad(`"params" holds ${p.length} values; an endpoint takes one`);
      return p[0];
    }
    if (typeof p === 'object' && p !== null) return p;
    throw bad('"params" must be an array or an object');
  }

  private response(e: Record<string, unknown>): unknown {
    if (e.error !== undefined && e.error !== null) {
      const err = e.error as { code?: unknown; message?: unknown; data?: unknown };
      const data = err.data as { code?: unknown; detail?: unknown } | undefined;
      const code = typeof data?.code === 'string' ? data.code : 'INTERNAL';
      const detail = typeof data?.detail === 'string' ? data.detail : typeof err.message === 'string' ? err.message : 'JSON-RPC error';
      throw new MeshError(code as ErrorCode, detail);
    }
    if (!('result' in e)) throw bad('a response needs "result" or "error"');
    return e.result ?? undefined;
  }
}

function bad(what: string): MeshError {
  return new MeshError('DECODE_FAILED', `malformed JSON-RPC: ${what}`, { status: 400 });
}
