/**
 * Node-level endpoints: every server answers them under the reserved
 * service name `$mesh`, whatever its own name, and none is registered. The
 * plumbing of other concepts (record fetches, broker delivery) rides the
 * same connections as application calls. Every internal endpoint is named
 * here, once; a toolkit part that exposes the mesh (the API gateway) never
 * exposes this service.
 */

/** Service name of the internal endpoints. */
export const INTERNAL_SERVICE = '$mesh';

/** An internal endpoint: the handler name passed to `handleInternal`, its method, and `handler.method`. */
export interface InternalEndpoint {
  readonly handler: string;
  readonly method: string;
  readonly endpoint: string;
}

function internal(handler: string, method: string): InternalEndpoint {
  return { handler, method, endpoint: `${handler}.${method}` };
}

/** A member's record, fetched when it is too large to ride in SWIM metadata. */
export const MEMBERSHIP_RECORD = internal('Membership', 'Record');
/** A batch of pubsub messages from a holder to a subscribing node. */
export const BROKER_DELIVER = internal('Broker', 'Deliver');
/** An endpoint's request and response schemas, when too large to ride in its registry metadata (`schema-ref`). */
export const ENDPOINT_SCHEMAS = internal('Endpoint', 'Schemas');
/** The gossip keyring's key fingerprints (never the keys) and which is primary. */
export const KEYRING_LIST = internal('Keyring', 'List');
/** Installs a gossip key for decryption (idempotent). */
export const KEYRING_INSTALL = internal('Keyring', 'Install');
/** Makes an installed gossip key the one that encrypts. */
export const KEYRING_USE = internal('Keyring', 'Use');
/** Uninstalls a gossip key other than the primary (idempotent). */
export const KEYRING_REMOVE = internal('Keyring', 'Remove');
/** Key/value versions pushed to a peer: a write's copies, rumor forwarding, anti-entropy repairs. */
export const KV_REPLICATE = internal('Kv', 'Replicate');
/** Key/value anti-entropy: bucket hashes in, the differing buckets' key stamps out. */
export const KV_DIGEST = internal('Kv', 'Digest');
/** Key/value anti-entropy: the versions of the keys asked for. */
export const KV_FETCH = internal('Kv', 'Fetch');
/** Key/value operations for a client that is no member (the CLI): read, list, write, delete, wait on a prefix's index. */
export const KV_GET = internal('Kv', 'Get');
export const KV_PUT = internal('Kv', 'Put');
export const KV_DELETE = internal('Kv', 'Delete');
export const KV_WAIT = internal('Kv', 'Wait');
