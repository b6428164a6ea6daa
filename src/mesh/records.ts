import type { RecordFetch } from '../membership/swim.ts';
import type { Membership } from '../membership/types.ts';
import { INTERNAL_SERVICE, MEMBERSHIP_RECORD } from '../rpc/internal.ts';
import type { Client, Server } from '../rpc/types.ts';

/**
 * Member records too large for SWIM metadata travel over RPC: the membership
 * only gets a fetch function, and the mesh wires it to the `$mesh`
 * `Membership.Record` endpoint (so membership stays below rpc).
 */
export function fetchRecordsOver(client: Client, retries = 1): RecordFetch {
  return (address, o) => client.call(INTERNAL_SERVICE, MEMBERSHIP_RECORD.endpoint, {}, { address, timeoutMs: o.timeoutMs, retries });
}

/** Answers peers' fetches of this node's record. */
export function serveRecord(server: Server, membership: Pick<Membership, 'local'>): void {
  server.handleInternal(MEMBERSHIP_RECORD.handler, { [MEMBERSHIP_RECORD.method]: () => membership.local() });
}
