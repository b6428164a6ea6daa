/**
 * The names the sidecar and the tools that read it (`micromesh health`)
 * share, spelled once. No imports: the CLI loads this file on its own.
 */

/**
 * Registry name of the companion records: each sidecar lists one node under
 * it, whose metadata names the app and its health. The app's own record is
 * withdrawn while it is critical; this one stays, so tools still find it.
 */
export const SIDECAR_SERVICE = 'micromesh-sidecar';

/** Companion node metadata: the app's service name. */
export const SIDECAR_APP_METADATA = 'app';

/** Companion node metadata: the app's health, `passing` or `critical`. */
export const SIDECAR_HEALTH_METADATA = 'app-health';

/** The `$mesh` endpoint answering the app's health (AppHealthReport); not registered. */
export const SIDECAR_HEALTH = { handler: 'Sidecar', method: 'Health', endpoint: 'Sidecar.Health' } as const;

/** Where an app describes its endpoints when `endpoints` is not given (see docs/sidecar.md). */
export const DESCRIBE_PATH = '/.well-known/micromesh';

export type AppHealthStatus = 'passing' | 'critical';

/** The app's health as the sidecar last saw it (`/health`, `Sidecar.Health`). */
export interface AppHealthReport {
  status: AppHealthStatus;
  /** Why it is critical: the HTTP status or the connection error. */
  reason?: string;
  /** The app's service name. */
  app: string;
  /** Wall-clock time of the last check, ms since the epoch; absent without a health URL. */
  checkedAtMs?: number;
}
