export { ERROR_CODES, type ErrorCode, type KnownErrorCode, type WireError } from './types.ts';
export {
  MeshError, type MeshErrorInit, isMeshError, isRetryable, fromWire, toMeshError,
  badRequest, unauthorized, forbidden, notFound, timeout, conflict, internal, unavailable,
} from './errors.ts';
