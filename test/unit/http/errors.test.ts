import { test } from 'node:test';
import assert from 'node:assert/strict';
import { errorCodes } from 'fastify';
import { errorBody, fromHttpError, httpStatus } from '../../../src/http/errors.ts';
import { MeshError } from '../../../src/index.ts';

const limits = { bodyLimitBytes: 1024 };

test('httpStatus: gateway statuses where they differ from the code’s own, else the code’s status', () => {
  const table: [string, number][] = [
    ['TIMEOUT', 504],
    ['SERVICE_NOT_FOUND', 404],
    ['NONE_AVAILABLE', 503],
    ['NO_MESH_FOUND', 503],
    ['CONNECTION_LOST', 502],
    ['CONNECTION_REFUSED', 503],
    ['PROTOCOL_ERROR', 502],
    ['CANCELLED', 499],
    ['DECODE_FAILED', 400],
    ['FRAME_TOO_LARGE', 413],
    ['BAD_REQUEST', 400],
    ['UNAUTHORIZED', 401],
    ['FORBIDDEN', 403],
    ['NOT_FOUND', 404],
    ['METHOD_NOT_ALLOWED', 405],
    ['CONFLICT', 409],
    ['PAYLOAD_TOO_LARGE', 413],
    ['TOO_MANY_REQUESTS', 429],
    ['UNSUPPORTED_CONTENT_TYPE', 415],
    ['ENCODE_FAILED', 500],
    ['INTERNAL', 500],
    ['UNAVAILABLE', 503],
    ['SERVER_STOPPING', 503],
  ];
  for (const [code, status] of table) assert.equal(httpStatus(new MeshError(code, 'x')), status, code);
});

test('httpStatus: the gateway mapping wins over a status the error carries', () => {
  assert.equal(httpStatus(new MeshError('TIMEOUT', 'x', { status: 408 })), 504);
  assert.equal(httpStatus(new MeshError('CONNECTION_LOST', 'x', { status: 503 })), 502);
});

test('httpStatus: other codes keep their status when it is 400–599, else 500', () => {
  assert.equal(httpStatus(new MeshError('APP_UNPROCESSABLE', 'x', { status: 422 })), 422);
  assert.equal(httpStatus(new MeshError('BAD_REQUEST', 'x', { status: 418 })), 418);
  assert.equal(httpStatus(new MeshError('APP_BUSY', 'x', { status: 599 })), 599);
  assert.equal(httpStatus(new MeshError('APP_ODD', 'x')), 500); // unknown code, no status
  for (const status of [200, 0, 302, 399, 600, 4000, -1, 404.5, Number.NaN]) {
    assert.equal(httpStatus(new MeshError('APP_ODD', 'x', { status })), 500, String(status));
  }
});

test('errorBody: Go Micro’s four fields, status being the HTTP status sent', () => {
  assert.deepEqual(errorBody(new MeshError('TIMEOUT', 'deadline passed', { id: 'greeter' })), {
    id: 'greeter', code: 'TIMEOUT', detail: 'deadline passed', status: 504,
  });
  assert.deepEqual(errorBody(new MeshError('APP_X', 'odd', { id: 'svc', status: 200 })), { id: 'svc', code: 'APP_X', detail: 'odd', status: 500 });
  assert.deepEqual(Object.keys(errorBody(new MeshError('BAD_REQUEST', 'x'))).sort(), ['code', 'detail', 'id', 'status']);
});

test('fromHttpError passes typed errors through', () => {
  const e = new MeshError('FORBIDDEN', 'no');
  assert.equal(fromHttpError(e, limits), e);
});

test('fromHttpError: a body over the limit is PAYLOAD_TOO_LARGE naming the limit', () => {
  const e = fromHttpError(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE(), limits);
  assert.equal(e.code, 'PAYLOAD_TOO_LARGE');
  assert.equal(httpStatus(e), 413);
  assert.equal(e.id, 'micromesh.http');
  assert.equal(e.detail, 'request body exceeds the limit of 1024 bytes (bodyLimitBytes)');
});

test('fromHttpError: fastify body-parser errors become UNSUPPORTED_CONTENT_TYPE or BAD_REQUEST', () => {
  const media = fromHttpError(new errorCodes.FST_ERR_CTP_INVALID_MEDIA_TYPE('text/x'), limits);
  assert.equal(media.code, 'UNSUPPORTED_CONTENT_TYPE');
  assert.equal(httpStatus(media), 415);
  assert.match(media.detail, /text\/x/);
  for (const err of [new errorCodes.FST_ERR_CTP_INVALID_CONTENT_LENGTH(), new errorCodes.FST_ERR_CTP_EMPTY_JSON_BODY()]) {
    const e = fromHttpError(err, limits);
    assert.equal(e.code, 'BAD_REQUEST', err.code);
    assert.equal(httpStatus(e), 400);
    assert.equal(e.detail, err.message);
    assert.equal(e.id, 'micromesh.http');
  }
  // Without a message, a generic detail.
  assert.equal(fromHttpError({ code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE' }, limits).detail, 'unsupported media type');
  assert.equal(fromHttpError({ code: 'FST_ERR_CTP_EMPTY_JSON_BODY' }, limits).detail, 'malformed body');
});

test('fromHttpError: other 4xx errors are BAD_REQUEST keeping their status', () => {
  const e = fromHttpError(Object.assign(new Error('URI too long'), { statusCode: 414 }), limits);
  assert.equal(e.code, 'BAD_REQUEST');
  assert.equal(httpStatus(e), 414);
  assert.equal(e.detail, 'URI too long');
  assert.equal(fromHttpError({ statusCode: 400 }, limits).detail, 'bad request');
});

test('fromHttpError: anything else is INTERNAL (or CANCELLED for an abort), keeping the message', () => {
  const internal = fromHttpError(new Error('boom'), limits);
  assert.equal(internal.code, 'INTERNAL');
  assert.equal(internal.detail, 'boom');
  assert.equal(internal.id, 'micromesh.http');
  assert.equal(httpStatus(internal), 500);
  assert.equal(fromHttpError(Object.assign(new Error('upstream'), { statusCode: 502 }), limits).code, 'INTERNAL');
  const abort = new Error('aborted');
  abort.name = 'AbortError';
  assert.equal(fromHttpError(abort, limits).code, 'CANCELLED');
  assert.equal(fromHttpError('text thrown', limits).detail, 'text thrown');
});

test('fromHttpError accepts null and undefined like any other thrown value', () => {
  for (const thrown of [null, undefined]) {
    const e = fromHttpError(thrown, limits);
    assert.equal(e.code, 'INTERNAL');
    assert.equal(e.detail, String(thrown));
  }
});
