import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CORS_DEFAULTS, DEFAULT_METADATA_HEADERS, HTTP_DEFAULTS, resolveHttpConfig, type HttpConfigInput } from '../../../src/http/config.ts';
import { MeshError } from '../../../src/index.ts';

/** The INVALID_CONFIG detail `input` fails with. */
function problem(input: unknown, scope?: string): string {
  try {
    resolveHttpConfig(input as HttpConfigInput, {}, scope);
  } catch (err) {
    assert.ok(err instanceof MeshError, String(err));
    assert.equal(err.code, 'INVALID_CONFIG');
    return err.detail;
  }
  assert.fail(`${JSON.stringify(input)} was accepted`);
}

test('no input gives the defaults', () => {
  assert.deepEqual(resolveHttpConfig(undefined), HTTP_DEFAULTS);
  assert.deepEqual(resolveHttpConfig({}), HTTP_DEFAULTS);
  const c = resolveHttpConfig(undefined);
  assert.equal(c.address, ':8080');
  assert.equal(c.bodyLimitBytes, 1048576);
  assert.equal(c.rpcPath, '/rpc');
  assert.equal(c.namespace, '');
  assert.equal(c.metadataPrefix, 'x-micro-');
  assert.deepEqual(c.metadataHeaders, DEFAULT_METADATA_HEADERS);
  assert.deepEqual(c.cors, CORS_DEFAULTS);
});

test('given fields override the defaults; undefined fields do not', () => {
  const c = resolveHttpConfig({ address: '127.0.0.1:9000', bodyLimitBytes: 2048, rpcPath: '', namespace: 'go.micro.api', callTimeoutMs: undefined });
  assert.equal(c.address, '127.0.0.1:9000');
  assert.equal(c.bodyLimitBytes, 2048);
  assert.equal(c.rpcPath, '');
  assert.equal(c.namespace, 'go.micro.api');
  assert.equal(c.callTimeoutMs, HTTP_DEFAULTS.callTimeoutMs);
  assert.equal(c.maxHeaderBytes, HTTP_DEFAULTS.maxHeaderBytes);
});

test('caller defaults (the sidecar’s) sit between the built-in defaults and the input', () => {
  assert.equal(resolveHttpConfig(undefined, { address: ':8081' }).address, ':8081');
  assert.equal(resolveHttpConfig({ address: ':9000' }, { address: ':8081' }).address, ':9000');
  assert.equal(resolveHttpConfig(undefined, { address: undefined }).address, ':8080');
  assert.equal(resolveHttpConfig(undefined, { cors: false }).cors, false);
  assert.equal(resolveHttpConfig(undefined, { rpcPath: '' }).rpcPath, '');
});

test('range bounds are inclusive', () => {
  assert.equal(resolveHttpConfig({ bodyLimitBytes: 1 }).bodyLimitBytes, 1);
  assert.equal(resolveHttpConfig({ bodyLimitBytes: 1 << 30 }).bodyLimitBytes, 1073741824);
  assert.equal(resolveHttpConfig({ drainTimeoutMs: 0 }).drainTimeoutMs, 0);
  const cors = resolveHttpConfig({ cors: { maxAgeS: 86400 } }).cors;
  assert.ok(cors !== false);
  assert.equal(cors.maxAgeS, 86400);
});

test('an invalid field is INVALID_CONFIG naming the field, its range and the value', () => {
  assert.equal(problem({ bodyLimitBytes: 0 }, 'api'), 'api.bodyLimitBytes must be an integer in [1, 1073741824], got 0');
  assert.equal(problem({ bodyLimitBytes: 0 }), 'http.bodyLimitBytes must be an integer in [1, 1073741824], got 0');
  assert.equal(problem({ maxHeaderBytes: 1023 }), 'http.maxHeaderBytes must be an integer in [1024, 1048576], got 1023');
  assert.equal(problem({ maxUrlBytes: 63 }), 'http.maxUrlBytes must be an integer in [64, 1048576], got 63');
  assert.equal(problem({ headersTimeoutMs: 600_001 }), 'http.headersTimeoutMs must be an integer in [100, 600000], got 600001');
  assert.equal(problem({ requestTimeoutMs: 99 }), 'http.requestTimeoutMs must be an integer in [100, 3600000], got 99');
  assert.equal(problem({ idleTimeoutMs: 1.5 }), 'http.idleTimeoutMs must be an integer in [100, 3600000], got 1.5');
  assert.equal(problem({ callTimeoutMs: 0 }), 'http.callTimeoutMs must be an integer in [1, 3600000], got 0');
  assert.equal(problem({ maxCallTimeoutMs: '60' }), 'http.maxCallTimeoutMs must be an integer in [1, 3600000], got "60"');
  assert.equal(problem({ drainTimeoutMs: -1 }), 'http.drainTimeoutMs must be an integer in [0, 600000], got -1');
  assert.equal(problem({ wsMaxMessageBytes: 2 ** 30 + 1 }), 'http.wsMaxMessageBytes must be an integer in [1, 1073741824], got 1073741825');
  assert.equal(problem({ streamHighWaterBytes: 1023 }), 'http.streamHighWaterBytes must be an integer in [1024, 67108864], got 1023');
  assert.equal(problem({ address: '' }), 'http.address must be a string of 1 to 300 characters, got ""');
  assert.equal(problem({ rpcPath: 5 }), 'http.rpcPath must be empty or a path starting with /, got 5');
  assert.equal(problem({ namespace: 'go micro' }), 'http.namespace must be up to 128 letters, digits, ., _ or -, got "go micro"');
  assert.equal(problem({ metadataPrefix: 'x:' }), 'http.metadataPrefix must be up to 64 letters, digits, _ or -, got "x:"');
  assert.equal(problem({ metadataHeaders: 'authorization' }), 'http.metadataHeaders must be a list of strings, got "authorization"');
  assert.equal(problem({ cors: true }), 'http.cors must be false or CORS settings, got true');
});

test('several invalid fields are all named', () => {
  const detail = problem({ bodyLimitBytes: 0, maxUrlBytes: 1 });
  assert.match(detail, /http\.bodyLimitBytes must be an integer in \[1, 1073741824\], got 0/);
  assert.match(detail, /http\.maxUrlBytes must be an integer in \[64, 1048576\], got 1/);
});

test('a malformed rpcPath names the rule it breaks', () => {
  assert.equal(problem({ rpcPath: 'rpc' }), 'http.rpcPath must be empty or a path starting with /, got "rpc"');
  assert.equal(problem({ rpcPath: '/a b' }), 'http.rpcPath must be empty or a path starting with /, got "/a b"');
});

test('unknown keys are rejected, at the top and inside cors', () => {
  assert.equal(problem({ bodyLimit: 10 }), 'http.bodyLimit is not a known setting');
  assert.match(problem({ cors: { origin: ['https://a.example'] } }), /^http\.cors/);
});

test('invalid cors settings name the nested field', () => {
  assert.equal(problem({ cors: { maxAgeS: -1 } }), 'http.cors.maxAgeS must be an integer in [0, 86400], got -1');
  assert.match(problem({ cors: { origins: 'https://a.example' } }), /^http\.cors/);
});

test('an unknown or mistyped cors key is named, not only "cors"', () => {
  assert.equal(problem({ cors: { origin: ['https://a.example'] } }), 'http.cors.origin is not a known setting');
  assert.equal(problem({ cors: { credentials: 'yes' } }), 'http.cors.credentials must be true or false, got "yes"');
  assert.equal(problem({ cors: { origins: 'https://a.example' } }), 'http.cors.origins must be a list of strings, got "https://a.example"');
});

test('cors false turns CORS off; partial cors settings are merged with the defaults', () => {
  assert.equal(resolveHttpConfig({ cors: false }).cors, false);
  assert.deepEqual(resolveHttpConfig({ cors: {} }).cors, CORS_DEFAULTS);
  assert.deepEqual(resolveHttpConfig({ cors: { origins: ['https://a.example'], credentials: true } }).cors, {
    ...CORS_DEFAULTS,
    origins: ['https://a.example'],
    credentials: true,
  });
  assert.deepEqual(resolveHttpConfig({ cors: { maxAgeS: 0, allowedHeaders: ['Content-Type'], origins: undefined } }).cors, {
    ...CORS_DEFAULTS,
    maxAgeS: 0,
    allowedHeaders: ['Content-Type'],
  });
  // Input cors settings merge over the built-in CORS defaults even when the caller's defaults turned CORS off.
  assert.deepEqual(resolveHttpConfig({ cors: { credentials: true } }, { cors: false }).cors, { ...CORS_DEFAULTS, credentials: true });
});

test('metadata header names and the prefix are lower-cased', () => {
  const c = resolveHttpConfig({ metadataHeaders: ['Authorization', 'X-Trace-Id'], metadataPrefix: 'X-App-' });
  assert.deepEqual(c.metadataHeaders, ['authorization', 'x-trace-id']);
  assert.equal(c.metadataPrefix, 'x-app-');
  assert.equal(resolveHttpConfig({ metadataPrefix: '' }).metadataPrefix, '');
});

test('the defaults are not mutated by resolving', () => {
  const before = structuredClone(HTTP_DEFAULTS);
  const c = resolveHttpConfig({ cors: { origins: ['https://a.example'] } });
  c.metadataHeaders.push('x-extra');
  assert.deepEqual(HTTP_DEFAULTS, before);
});
