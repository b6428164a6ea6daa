import { ERROR_CODES, type ErrorCode, type WireError } from './types.ts';

export interface MeshErrorInit {
  /** Component that raised the error. Default `micromesh`. */
  id?: string;
  /** Status override; defaults to the code's status, or 500 for unknown codes. */
  status?: number;
  /** Retry flag override; defaults to the code's flag, or status 503/408 for unknown codes. */
  retryable?: boolean;
  cause?: unknown;
}

/** The one typed error of micromesh: a stable `code`, a `retryable` flag and a wire form. */
export class MeshError extends Error {
  readonly id: string;
  readonly code: ErrorCode;
  readonly detail: string;
  readonly status: number;
  readonly retryable: boolean;

  constructor(code: ErrorCode, detail: string, init: MeshErrorInit = {}) {
    super(detail, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'MeshError';
    const known = (ERROR_CODES as Record<string, { status: number; retryable: boolean }>)[code];
    this.id = init.id ?? 'micromesh';
    this.code = code;
    this.detail = detail;
    this.status = init.status ?? known?.status ?? 500;
    this.retryable = init.retryable ?? known?.retryable ?? (this.status === 503 || this.status === 408);
  }

  toWire(): WireError {
    return { id: this.id, code: this.code, detail: this.detail, status: this.status };
  }

  override toString(): string {
    return `${this.code} (${this.status}) from ${this.id}: ${this.detail}`;
  }
}

export function isMeshError(err: unknown): err is MeshError {
  return err instanceof MeshError;
}

/** Whether a retry may succeed: only typed errors that say so. */
export function isRetryable(err: unknown): boolean {
  return err instanceof MeshError && err.retryable;
}

/** Rebuilds a typed error from its wire form; tolerates malformed input. */
export function fromWire(value: unknown): MeshError {
  const w = (typeof value === 'object' && value !== null ? value : {}) as Partial<WireError>;
  const code = typeof w.code === 'string' && w.code.length > 0 ? w.code : 'INTERNAL';
  const detail = typeof w.detail === 'string' ? w.detail : 'malformed error from peer';
  const status = typeof w.status === 'number' && Number.isInteger(w.status) ? w.status : undefined;
  return new MeshError(code, detail, { id: typeof w.id === 'string' ? w.id : 'unknown', status });
}

/**
 * Turns anything thrown into a MeshError. Untyped errors become INTERNAL with
 * their message; the stack stays local.
 */
export function toMeshError(err: unknown, id = 'micromesh'): MeshError {
  if (err instanceof MeshError) return err;
  if (err instanceof Error && err.name === 'AbortError') return new MeshError('CANCELLED', err.message, { id, cause: err });
  const detail = err instanceof Error ? err.message : String(err);
  return new MeshError('INTERNAL', detail, { id, cause: err });
}

const make = (code: ErrorCode) => (detail: string, id?: string): MeshError => new MeshError(code, detail, { id });

/** Constructors named after their status, as in Go Micro's errors package. */
export const badRequest = make('BAD_REQUEST');
export const unauthorized = make('UNAUTHORIZED');
export const forbidden = make('FORBIDDEN');
export const notFound = make('NOT_FOUND');
export const timeout = make('TIMEOUT');
export const conflict = make('CONFLICT');
export const internal = make('INTERNAL');
export const unavailable = make('UNAVAILABLE');
