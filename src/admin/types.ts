import type { Clock } from '../clock/types.ts';
import type { Logger } from '../log/types.ts';

/**
 * The admin HTTP port of a node (off unless asked): what it serves comes
 * from an {@link AdminSource} the mesh implements, so this concept knows
 * nothing above the kernel.
 */

/** One target group of Prometheus' `http_sd` format. */
export interface HttpSdGroup {
  /** `host:port` of admin ports to scrape. */
  targets: string[];
  /** Labels of every target in the group; `__meta_*` ones are for relabelling only. */
  labels: Record<string, string>;
}

/** What the admin port serves; the mesh implements it. */
export interface AdminSource {
  /** Prometheus text exposition of this node's registry. */
  metrics(signal?: AbortSignal): Promise<{ contentType: string; body: string }>;
  /** Ready to take traffic: joined the mesh and registered, not draining. `reason` says why not. */
  readiness(): { ready: boolean; reason?: string };
  /** The node's Debug.Stats document (JSON-able). */
  stats(signal?: AbortSignal): Promise<unknown>;
  /** Every live member that publishes an admin address, in http_sd format. */
  targets(signal?: AbortSignal): HttpSdGroup[] | Promise<HttpSdGroup[]>;
}

/** A mesh member as the http_sd list needs it (see `httpSdGroups`). */
export interface AdminMember {
  /** Node id. */
  id: string;
  /** SWIM state: `alive`, `suspect`, `dead`, `left`. Only alive and suspect members are listed. */
  state: string;
  /** Its admin port, `host:port`; empty when it has none. */
  admin: string;
  /** The services it runs. */
  services: { name: string; version: string }[];
}

/** Limits of the admin port (DEVELOPERS.md rule 4); every one has a default (`ADMIN_DEFAULTS`). */
export interface AdminLimits {
  /** Longest request target, bytes; longer gets 414. Default 2048. */
  maxUrlBytes: number;
  /** Largest request head (request line and headers), bytes; larger gets 431. Default 8192. */
  maxHeaderBytes: number;
  /**
   * Largest request body tolerated, bytes: every route is read-only, so a
   * body up to this is read and ignored, and a larger one gets 413 and the
   * connection closed. Default 1024.
   */
  maxBodyBytes: number;
  /** Time to receive a request's head, ms (Node's `headersTimeout`); then 408. Default 5000. */
  headersTimeoutMs: number;
  /** Time to receive a whole request, ms (Node's `requestTimeout`); at least `headersTimeoutMs`. Default 10000. */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this, ms. Default 5000. */
  idleTimeoutMs: number;
  /** Longest wait for the source's metrics or stats, ms; then 504 `TIMEOUT`. Prometheus' default scrape timeout is 10 s. Default 10000. */
  sourceTimeoutMs: number;
  /** Most open connections; Node drops connections beyond. Default 64. */
  maxConnections: number;
  /** `stop` waits this long for requests in flight, ms, then closes every connection. Default 2000. */
  drainTimeoutMs: number;
}

export interface AdminOptions extends Partial<AdminLimits> {
  /** Where to listen, `host:port` or `:port` (every interface); port 0 picks a free one. */
  address: string;
  source: AdminSource;
  clock: Clock;
  logger: Logger;
}
