// What the codec rows of bench:rpc change, in both processes: the same
// Order message (bench/proto/order.proto) echoed by Bench.Echo, sent as
// `micromesh-order-cbor` CBOR and `micromesh-order-json` JSON by an untyped
// client to an untyped handler (what a TypeScript team writes today), and as
// `micromesh-order-protobuf` protobuf between a client and a handler that
// both have the message type (what generated code does). Each process sends
// and receives the same data.
import { create } from '@bufbuild/protobuf';
import { defaultCodecs, type CallOptions, type HandleOptions } from 'micromesh';
import { protoType } from 'micromesh/proto';
import { OrderSchema } from './proto/gen/order_pb.ts';

export const CODEC_ROWS: Record<string, string> = {
  'micromesh-order-cbor': 'application/cbor',
  'micromesh-order-json': 'application/json',
  'micromesh-order-protobuf': 'application/protobuf',
};

const ORDER = { id: 'ord_7f3a9c2e41', amountCents: 1_234_567n, tags: ['express', 'gift'], customer: { name: 'Ada Lovelace', email: 'ada@example.org' }, paid: true };

/** The request a row sends, and the call options it sends it with (undefined: not a codec row). */
export function codecRow(mode: string): { request: unknown; call: CallOptions; handle: HandleOptions } | undefined {
  const contentType = CODEC_ROWS[mode];
  if (contentType === undefined) return undefined;
  if (contentType !== 'application/protobuf') {
    // Untyped: the message as plain data (the amount as a number, as JSON would carry it).
    return { request: { ...ORDER, amountCents: Number(ORDER.amountCents) }, call: { contentType }, handle: {} };
  }
  const t = protoType(OrderSchema);
  const types = { request: t, response: t };
  return { request: create(OrderSchema, ORDER), call: { contentType, types }, handle: { types: { Echo: types } } };
}

/** Bytes of the row's request body on the wire (the response is the same message). */
export function requestBytes(mode: string): number | undefined {
  const row = codecRow(mode);
  if (row === undefined) return undefined;
  const types = row.call.types;
  return types !== undefined ? types.request.toBinary(row.request).length : defaultCodecs().get(row.call.contentType!).encode(row.request).length;
}
