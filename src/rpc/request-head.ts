import { INLINE_ROUTE } from './frame.ts';
import type { Route, RouteTable } from './routes.ts';

/** A Request frame's head (docs/PROTOCOL.md "Request"): its route, timeout, metadata and where the body starts. */
export interface RequestHead {
  route: Route;
  timeoutMs: number;
  metadata: Uint8Array | undefined;
  bodyAt: number;
}

/** Parses a Request frame's head; a string says what is malformed (a protocol error). */
export function parseRequestHead(p: Uint8Array, routes: RouteTable): RequestHead | string {
  if (p.length < 8) return 'short Request frame';
  const routeId = (p[0]! << 8) | p[1]!;
  const timeoutMs = ((p[2]! << 24) | (p[3]! << 16) | (p[4]! << 8) | p[5]!) >>> 0;
  const metaLen = (p[6]! << 8) | p[7]!;
  let off = 8 + metaLen;
  if (off > p.length) return 'Request metadata overruns the frame';
  let route: Route | undefined;
  if (routeId === INLINE_ROUTE) {
    if (off + 2 > p.length) return 'short inline route';
    const len = (p[off]! << 8) | p[off + 1]!;
    route = routes.decode(p.subarray(off + 2, off + 2 + len));
    off += 2 + len;
  } else {
    route = routes.get(routeId);
  }
  if (route === undefined || off > p.length) return `Request names unknown route ${routeId}`;
  return { route, timeoutMs, metadata: metaLen > 0 ? p.subarray(8, 8 + metaLen) : undefined, bodyAt: off };
}
