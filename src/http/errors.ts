import { MeshError, toMeshError, type WireError } from '../index.ts';

/**
 * The HTTP status of each error code, where it differs from the code's own
 * status: at the gateway a deadline that passed is the upstream's fault
 * (504), and everything that says "no node can answer" is 503. Any other
 * code keeps its status (400 bad request, 401, 403, 404, 409, 413, 429...);
 * an unknown code with a status outside 400–599 is 500. Matched on codes,
 * never on text (DEVELOPERS.md rule 5).
 */
const STATUS_BY_CODE: Record<string, number> = {
  TIMEOUT: 504,
  SERVICE_NOT_FOUND: 404,
  NONE_AVAILABLE: 503,
  NO_MESH_FOUND: 503,
  CONNECTION_LOST: 502,
  CONNECTION_REFUSED: 503,
  PROTOCOL_ERROR: 502,
  CANCELLED: 499,
  DECODE_FAILED: 400,
  FRAME_TOO_LARGE: 413,
};

/** The HTTP status an error answers with. */
export function httpStatus(err: MeshError): number {
  const s = STATUS_BY_CODE[err.code] ?? err.status;
  return Number.isInteger(s) && s >= 400 && s <= 599 ? s : 500;
}

/** The error body: Go Micro's four fields, `status` being the HTTP status sent. */
export function errorBody(err: MeshError): WireError {
  return { id: err.id, code: err.code, detail: err.detail, status: httpStatus(err) };
}

/** Fastify's own errors (body limit, bad content type, parser failures) as typed errors. */
export function fromHttpError(err: unknown, limits: { bodyLimitBytes: number }): MeshError {
  if (err instanceof MeshError) return err;
  const e = (typeof err === 'object' && err !== null ? err : {}) as { code?: string; statusCode?: number; message?: string };
  const id = 'micromesh.http';
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new MeshError('PAYLOAD_TOO_LARGE', `request body exceeds the limit of ${limits.bodyLimitBytes} bytes (bodyLimitBytes)`, { id });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new MeshError('UNSUPPORTED_CONTENT_TYPE', e.message ?? 'unsupported media type', { id });
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new MeshError('BAD_REQUEST', e.message ?? 'malformed body', { id });
    default:
      if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
        return new MeshError('BAD_REQUEST', e.message ?? 'bad request', { id, status: e.statusCode });
      }
      return toMeshError(err, id);
  }
}
