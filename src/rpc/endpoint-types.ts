import type { EndpointTypes, MessageType } from '../codec/types.ts';
import { MeshError } from '../errors/index.ts';

const METHODS = ['toBinary', 'fromBinary', 'toJson', 'fromJson'] as const;

/** Checks the message types `handle` was given for one endpoint; INVALID_ARGUMENT naming what is wrong. */
export function checkTypes(given: unknown, endpoint: string): EndpointTypes | undefined {
  if (given === undefined) return undefined;
  const bad = (what: string): MeshError => new MeshError('INVALID_ARGUMENT', `types of ${endpoint}: ${what}`);
  if (given === null || typeof given !== 'object') throw bad('expected {request, response}');
  const g = given as Partial<Record<'request' | 'response', unknown>>;
  for (const side of ['request', 'response'] as const) {
    const t = g[side] as Partial<MessageType> | undefined;
    if (t === undefined || t === null || typeof t.typeName !== 'string') throw bad(`${side} must be a message type (protoType() from micromesh/proto)`);
    for (const m of METHODS) if (typeof t[m] !== 'function') throw bad(`${side} (${t.typeName}) has no ${m}()`);
  }
  return given as EndpointTypes;
}
