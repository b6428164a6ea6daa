/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/) as call metadata
 * and message headers. The keys are the HTTP header names, lower-cased, so
 * the same values cross the API gateway, RPC metadata and pubsub headers
 * unchanged. Pure functions, no OpenTelemetry: a node without an SDK passes
 * the values along as ordinary metadata and never parses them.
 */

/** Metadata key (and message header) of the W3C `traceparent`. */
export const TRACEPARENT = 'traceparent';
/** Metadata key (and message header) of the W3C `tracestate`. */
export const TRACESTATE = 'tracestate';
/** Metadata key of the request id the HTTP front doors set from `X-Request-Id` (or generate). */
export const REQUEST_ID = 'x-request-id';

/** The parts of a valid `traceparent`. */
export interface TraceParent {
  /** 32 lower-case hex digits, not all zeros. */
  traceId: string;
  /** 16 lower-case hex digits, not all zeros: the caller's span. */
  spanId: string;
  /** Trace flags; bit 0 is `sampled`. */
  flags: number;
}

/** Trace flag bit 0: the caller may have recorded this trace. */
export const SAMPLED_FLAG = 0x01;

/** Longest `tracestate` passed on; the spec lets a vendor drop longer ones (512 characters is its minimum to keep). */
export const MAX_TRACESTATE_LENGTH = 512;

const HEX = /^[0-9a-f]+$/;
const ZERO_TRACE_ID = '0'.repeat(32);
const ZERO_SPAN_ID = '0'.repeat(16);

/**
 * Parses a `traceparent`. Version 00 must be exactly
 * `00-<32 hex>-<16 hex>-<2 hex>`; a later version is read the same way and
 * whatever follows its flags (after a `-`) is ignored, as the spec asks, so
 * a newer caller's trace is still joined. Undefined for anything invalid
 * (version ff, upper case, wrong lengths, all-zero ids): the caller ignores
 * it and starts a new trace. Never throws.
 */
export function parseTraceParent(value: unknown): TraceParent | undefined {
  if (typeof value !== 'string' || value.length < 55) return undefined;
  const version = value.slice(0, 2);
  if (!HEX.test(version) || version === 'ff') return undefined;
  if (version === '00' ? value.length !== 55 : value.length > 55 && value[55] !== '-') return undefined;
  if (value[2] !== '-' || value[35] !== '-' || value[52] !== '-') return undefined;
  const traceId = value.slice(3, 35);
  const spanId = value.slice(36, 52);
  const flags = value.slice(53, 55);
  if (!HEX.test(traceId) || !HEX.test(spanId) || !HEX.test(flags)) return undefined;
  if (traceId === ZERO_TRACE_ID || spanId === ZERO_SPAN_ID) return undefined;
  return { traceId, spanId, flags: Number.parseInt(flags, 16) };
}

/**
 * Formats a version-00 `traceparent`. Only the `sampled` bit is written:
 * version 00 defines no other flag, and the spec says to send only the
 * flags one understands.
 */
export function formatTraceParent(traceId: string, spanId: string, flags: number): string {
  return `00-${traceId}-${spanId}-${(flags & SAMPLED_FLAG) === 0 ? '00' : '01'}`;
}

/**
 * A `tracestate` worth passing on: a string within the length limit,
 * without line breaks. Members are parsed by whoever uses them (the
 * OpenTelemetry API); undefined means drop it.
 */
export function acceptTraceState(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_TRACESTATE_LENGTH || /[\r\n]/.test(value)) return undefined;
  return value;
}
