/**
 * Error codes are stable strings that callers match on (DEVELOPERS.md rule 5);
 * messages are for humans and may change. Each code has a default HTTP-like
 * status and a `retryable` flag that the client's retry policy reads.
 */

/** The form an error takes on the wire, exactly Go Micro's four fields. */
export interface WireError {
  /** The component that raised it, e.g. `micromesh.server` or a service name. */
  id: string;
  /** Stable machine-readable code, e.g. `NOT_FOUND`. */
  code: string;
  /** Human-readable detail. */
  detail: string;
  /** HTTP-like status (400, 404, 408, 500, 503, ...). */
  status: number;
}

/** Every code micromesh itself raises, with its status and whether a retry may succeed. */
export const ERROR_CODES = {
  BAD_REQUEST: { status: 400, retryable: false },
  UNAUTHORIZED: { status: 401, retryable: false },
  FORBIDDEN: { status: 403, retryable: false },
  NOT_FOUND: { status: 404, retryable: false },
  METHOD_NOT_ALLOWED: { status: 405, retryable: false },
  TIMEOUT: { status: 408, retryable: true },
  CONFLICT: { status: 409, retryable: false },
  /** The request is valid but the node's state does not allow it (e.g. removing the primary gossip key). */
  FAILED_PRECONDITION: { status: 412, retryable: false },
  /** A request body, header or URL over a configured limit (the message names it). */
  PAYLOAD_TOO_LARGE: { status: 413, retryable: false },
  /** Rate limited: try again later. */
  TOO_MANY_REQUESTS: { status: 429, retryable: true },
  FRAME_TOO_LARGE: { status: 413, retryable: false },
  UNSUPPORTED_CONTENT_TYPE: { status: 415, retryable: false },
  /** The called endpoint can't be served in the request's codec (unknown here, or protobuf without a schema); the detail names the ones it can. */
  UNSUPPORTED_CODEC: { status: 415, retryable: false },
  DECODE_FAILED: { status: 400, retryable: false },
  ENCODE_FAILED: { status: 500, retryable: false },
  CANCELLED: { status: 499, retryable: false },
  INTERNAL: { status: 500, retryable: false },
  PROTOCOL_ERROR: { status: 502, retryable: true },
  UNAVAILABLE: { status: 503, retryable: true },
  CONNECTION_LOST: { status: 503, retryable: true },
  /** The peer's host refused the connection: nothing listens there (the process is gone). */
  CONNECTION_REFUSED: { status: 503, retryable: true },
  SERVER_STOPPING: { status: 503, retryable: true },
  /**
   * The mutual-TLS handshake failed: a certificate not signed by the mesh's
   * CA, expired, or missing, or one side speaks TLS and the other does not.
   * Not CONNECTION_REFUSED: the peer is alive, and a retry fails the same way.
   */
  TLS_REJECTED: { status: 502, retryable: false },
  /** The registry knows no such service. */
  SERVICE_NOT_FOUND: { status: 404, retryable: false },
  /** Multicast DNS cannot run here: port in use, interface unknown, no multicast route. */
  MDNS_UNAVAILABLE: { status: 503, retryable: false },
  /** This node knows no other mesh member: discovery and seeds found nobody. */
  NO_MESH_FOUND: { status: 503, retryable: false },
  /** The service exists but no node passes the filters or is out of backoff. */
  NONE_AVAILABLE: { status: 503, retryable: false },
  INVALID_CONFIG: { status: 400, retryable: false },
  INVALID_ARGUMENT: { status: 400, retryable: false },
  /** The component is stopped or was never started. */
  NOT_RUNNING: { status: 503, retryable: false },
  /** A node's membership record would exceed its size limit. */
  MEMBERSHIP_RECORD_TOO_LARGE: { status: 413, retryable: false },
  /** A bounded queue (e.g. a registry watcher) overflowed. */
  QUEUE_OVERFLOW: { status: 503, retryable: false },
  /** A store is full (the key/value store past its total size): nothing was written. */
  STORAGE_FULL: { status: 507, retryable: false },
  /** An operation this implementation cannot honestly offer (the mesh key/value store's cas: use etcd). */
  NOT_IMPLEMENTED: { status: 501, retryable: false },
} as const satisfies Record<string, { status: number; retryable: boolean }>;

export type KnownErrorCode = keyof typeof ERROR_CODES;

/** Codes are an open set: concepts may add their own (`SWIM_...`, `MDNS_...`). */
export type ErrorCode = KnownErrorCode | (string & {});
