// The agent's service registration parser (src/agent/registration.ts) and Go durations (src/agent/go-duration.ts):
// Consul's keys in any case or snake_case, its defaults, its clamps, and a BAD_REQUEST naming the field for bad input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MeshError } from '../../../src/index.ts';
import { goDurationFromJson, parseGoDuration } from '../../../src/agent/go-duration.ts';
import { parseCheckUpdate, parseRegistration, type RegistrationLimits } from '../../../src/agent/registration.ts';

const limits: RegistrationLimits = { maxChecksPerService: 4, maxMetaEntries: 3, maxTags: 3, maxNameLength: 20 };
const parse = (body: unknown) => parseRegistration(body, limits);

/** Asserts BAD_REQUEST whose message contains every fragment (the field and what it accepts). */
function rejects(body: unknown, ...fragments: string[]): void {
  assert.throws(() => parse(body), (err: unknown) => {
    assert.ok(err instanceof MeshError, String(err));
    assert.equal(err.code, 'BAD_REQUEST');
    for (const f of fragments) assert.ok(err.message.includes(f), `"${err.message}" should mention "${f}"`);
    return true;
  });
}

test('Go durations: units, fractions, sums, "0"; µs and ns round up to whole ms; anything else is undefined', () => {
  const cases: [string, number][] = [
    ['10s', 10_000], ['1m30s', 90_000], ['500ms', 500], ['1.5h', 5_400_000], ['120000ms', 120_000], ['0', 0],
    ['300us', 1], ['300µs', 1], ['300μs', 1], ['1ns', 1], ['1500us', 2], ['.5s', 500], ['1.s', 1_000], ['2h45m0.5s', 9_900_500],
    ['0s', 0], ['0.001s', 1],
  ];
  for (const [text, ms] of cases) assert.equal(parseGoDuration(text), ms, text);
  for (const text of ['', '10', '-10s', '+1s', '1S', '1d', '.s', '1.2.3s', ' 1s', '1s ', 'ms', '3000000h', 'abc']) {
    assert.equal(parseGoDuration(text), undefined, JSON.stringify(text));
  }
  assert.equal(goDurationFromJson(1_500_000_000), 1_500, 'a JSON number is nanoseconds, as Go encodes time.Duration');
  assert.equal(goDurationFromJson(1), 1);
  assert.equal(goDurationFromJson('30s'), 30_000);
  for (const v of [-1, 1.5, true, null, {}, Number.NaN]) assert.equal(goDurationFromJson(v), undefined, String(v));
});

test('keys match in any case and snake_case, at every level; unknown keys are ignored; Meta keeps its case', () => {
  const lower = parse({ name: 'web2', port: 8080, tags: ['a'], address: '10.0.0.2', kind: 'connect-proxy', proxy: {}, namespace: 'x' });
  assert.deepEqual(lower, {
    id: 'web2', name: 'web2', tags: ['a'], address: '10.0.0.2', port: 8080, meta: {},
    weights: { passing: 1, warning: 1 }, enableTagOverride: false, checks: [],
  });
  const snake = parse({
    NAME: 'api', enable_tag_override: true, Meta: { Env: 'Prod', zone_ID: 'B' }, weights: { PASSING: 3, warning: 0 },
    check: { http: 'https://127.0.0.1:9/health', interval: '5s', tls_skip_verify: true, deregister_critical_service_after: '90s', check_id: 'api-http', header: { 'X-Token': ['t'] } },
  });
  assert.equal(snake.enableTagOverride, true);
  assert.deepEqual(snake.meta, { Env: 'Prod', zone_ID: 'B' });
  assert.deepEqual(snake.weights, { passing: 3, warning: 0 });
  const [check] = snake.checks;
  assert.equal(check?.id, 'api-http');
  assert.deepEqual(check?.http, { url: 'https://127.0.0.1:9/health', method: 'GET', headers: { 'X-Token': ['t'] }, body: '', tlsSkipVerify: true });
  assert.equal(check?.deregisterCriticalAfterMs, 90_000);
  assert.equal(parse({ Name: 'x', Check: { CheckID: 'c', TTL: '10s', DeregisterCriticalServiceAfter: '2m' } }).checks[0]?.deregisterCriticalAfterMs, 120_000);
});

test('defaults: ID is Name, check ids service:<id> (or :1, :2...), names as Consul\'s, critical, 10 s timeout; clamps', () => {
  const one = parse({ Name: 'greeter', ID: 'greeter-1', Check: { TTL: '15s' } });
  assert.deepEqual(one.checks, [{
    id: 'service:greeter-1', name: "Service 'greeter' check", serviceId: 'greeter-1', serviceName: 'greeter', kind: 'ttl',
    ttlMs: 15_000, timeoutMs: 10_000, initialStatus: 'critical', notes: '',
  }]);
  const many = parse({
    Name: 'greeter', Check: { TCP: '127.0.0.1:80', Interval: '100ms', Status: 'passing', Name: 'tcp' },
    Checks: [{ HTTP: 'http://localhost/h', Interval: 2_000_000_000, Timeout: '1s', Method: 'POST', Body: '{}' }, { CheckID: 'mine', TTL: '1m', Notes: 'n' }],
  });
  assert.deepEqual(many.checks.map((c) => [c.id, c.name, c.kind, c.intervalMs, c.timeoutMs, c.initialStatus]), [
    ['service:greeter:1', 'tcp', 'tcp', 1_000, 10_000, 'passing'],
    ['service:greeter:2', "Service 'greeter' check", 'http', 2_000, 1_000, 'critical'],
    ['mine', "Service 'greeter' check", 'ttl', undefined, 10_000, 'critical'],
  ], 'the interval is raised to Consul\'s 1 s minimum; a number is nanoseconds');
  assert.equal(many.checks[1]?.http?.method, 'POST');
  assert.equal(many.checks[2]?.notes, 'n');
  assert.equal(parse({ Name: 'x', Check: { TTL: '10s', DeregisterCriticalServiceAfter: '10s' } }).checks[0]?.deregisterCriticalAfterMs, 60_000,
    'DeregisterCriticalServiceAfter is raised to Consul\'s 1 minute minimum');
  assert.equal(parse({ Name: 'x', Check: { TTL: '10s', DeregisterCriticalServiceAfter: '0' } }).checks[0]?.deregisterCriticalAfterMs, undefined);
  assert.deepEqual(parse({ Name: 'x', ID: '', Check: {}, Tags: null, Meta: null }).checks, [], 'an empty Check is skipped, as Consul does; null is absent');
  assert.equal(parse({ Name: 'x', ID: '' }).id, 'x');
});

test('every bad field is a BAD_REQUEST that names it and what it accepts', () => {
  rejects([1], 'request body', 'JSON object');
  rejects(null, 'request body');
  rejects({}, 'Name is required');
  rejects({ Name: '' }, 'Name', '1 to 20');
  rejects({ Name: 'a'.repeat(21) }, 'Name', '1 to 20');
  rejects({ Name: 'a\nb' }, 'Name', 'control');
  rejects({ Name: 7 }, 'Name');
  rejects({ Name: 'x', ID: 5 }, 'ID');
  rejects({ Name: 'x', Port: 70_000 }, 'Port', '[0, 65535]', '70000');
  rejects({ Name: 'x', port: 1.5 }, 'Port', 'integer');
  rejects({ Name: 'x', Port: '80' }, 'Port');
  rejects({ Name: 'x', Address: 1 }, 'Address', 'string');
  rejects({ Name: 'x', Tags: 'a' }, 'Tags', 'array');
  rejects({ Name: 'x', Tags: ['a', 2] }, 'Tags[1]');
  rejects({ Name: 'x', Tags: ['a', 'b', 'c', 'd'] }, 'Tags', 'at most 3');
  rejects({ Name: 'x', Meta: { env: 1 } }, 'Meta.env', 'string');
  rejects({ Name: 'x', Meta: { a: '1', b: '2', c: '3', d: '4' } }, 'Meta', 'at most 3');
  rejects({ Name: 'x', Meta: { 'bad key': 'v' } }, 'Meta key', '"bad key"');
  rejects({ Name: 'x', Meta: { 'consul-x': 'v' } }, 'Meta.consul-x', 'reserved');
  rejects({ Name: 'x', Meta: { k: 'v'.repeat(513) } }, 'Meta.k', '512');
  rejects({ Name: 'x', Weights: { Passing: 0 } }, 'Weights.Passing', '[1, 65535]');
  rejects({ Name: 'x', Weights: { Warning: -1 } }, 'Weights.Warning', '[0, 65535]');
  rejects({ Name: 'x', Weights: 3 }, 'Weights', 'object');
  rejects({ Name: 'x', EnableTagOverride: 'yes' }, 'EnableTagOverride', 'true or false');
  rejects({ Name: 'x', Check: 'ttl' }, 'Check', 'object');
  rejects({ Name: 'x', Checks: {} }, 'Checks', 'array');
  rejects({ Name: 'x', Checks: [{ TTL: '1s' }, 3] }, 'Checks[1]', 'object');
  rejects({ Name: 'x', Checks: Array.from({ length: 5 }, () => ({ TTL: '1s' })) }, 'Checks', 'at most 4');
  rejects({ Name: 'x', Check: { TTL: '1s' }, Checks: Array.from({ length: 4 }, () => ({ TTL: '1s' })) }, 'Check and Checks', 'at most 4');
  rejects({ Name: 'x', Check: { Notes: 'n' } }, 'Check', 'HTTP, TCP or TTL', 'GRPC', 'not supported');
  rejects({ Name: 'x', Checks: [{ TTL: '1s' }, { Args: ['/bin/true'], Interval: '10s' }] }, 'Checks[1]', 'Args', 'not supported');
  for (const key of ['GRPC', 'UDP', 'H2PING', 'DockerContainerID', 'AliasService', 'alias_node']) {
    rejects({ Name: 'x', Check: { [key]: 'v', Interval: '10s' } }, 'Check:', 'not supported', 'HTTP, TCP or TTL');
  }
  rejects({ Name: 'x', Check: { HTTP: 'http://a/', TCP: 'a:1', Interval: '1s' } }, 'Check', 'only one', 'HTTP and TCP');
  rejects({ Name: 'x', Check: { HTTP: 'http://a/' } }, 'Check.Interval', 'required', 'HTTP');
  rejects({ Name: 'x', Check: { TCP: 'a:1', Interval: '0' } }, 'Check.Interval', 'required', 'TCP');
  rejects({ Name: 'x', Check: { TCP: 'a:1', Interval: 'soon' } }, 'Check.Interval', 'Go duration', '"soon"');
  rejects({ Name: 'x', Check: { TCP: 'a:1', Interval: '-1s' } }, 'Check.Interval', 'Go duration');
  rejects({ Name: 'x', Check: { TCP: 'nope', Interval: '1s' } }, 'Check.TCP', 'host:port');
  rejects({ Name: 'x', Check: { TCP: 'a:99999', Interval: '1s' } }, 'Check.TCP', 'host:port');
  rejects({ Name: 'x', Check: { HTTP: 'ftp://a/', Interval: '1s' } }, 'Check.HTTP', 'http:// or https://');
  rejects({ Name: 'x', Check: { HTTP: 'not a url', Interval: '1s' } }, 'Check.HTTP');
  rejects({ Name: 'x', Check: { HTTP: 'http://a/', Interval: '1s', Method: 'GE T' } }, 'Check.Method');
  rejects({ Name: 'x', Check: { HTTP: 'http://a/', Interval: '1s', Header: { A: 'b' } } }, 'Check.Header.A', 'array of strings');
  rejects({ Name: 'x', Check: { HTTP: 'http://a/', Interval: '1s', Header: { A: ['b\r\nX: y'] } } }, 'Check.Header.A[0]', 'CR, LF');
  rejects({ Name: 'x', Check: { HTTP: 'http://a/', Interval: '1s', Header: { 'a b': ['v'] } } }, 'Check.Header', 'header name');
  rejects({ Name: 'x', Check: { HTTP: 'http://a/', Interval: '1s', TLSSkipVerify: 1 } }, 'Check.TLSSkipVerify');
  rejects({ Name: 'x', Check: { HTTP: 'http://a/', Interval: '1s', Body: {} } }, 'Check.Body', 'string');
  rejects({ Name: 'x', Check: { TTL: '0' } }, 'Check.TTL', 'more than 0');
  rejects({ Name: 'x', Check: { TTL: '10s', Interval: '10s' } }, 'Interval and TTL');
  rejects({ Name: 'x', Check: { TTL: '10s', Timeout: 'x' } }, 'Check.Timeout');
  rejects({ Name: 'x', Check: { TTL: '10s', DeregisterCriticalServiceAfter: '1y' } }, 'Check.DeregisterCriticalServiceAfter');
  rejects({ Name: 'x', Check: { TTL: '10s', Status: 'ok' } }, 'Check.Status', 'passing, warning, critical', '"ok"');
  rejects({ Name: 'x', Check: { TTL: '10s', CheckID: 3 } }, 'Check.CheckID', 'string');
  rejects({ Name: 'x', Check: { TTL: '10s', Notes: 3 } }, 'Check.Notes', 'string');
  rejects({ Name: 'x', Checks: [{ TTL: '1s', CheckID: 'a' }, { TTL: '1s', CheckID: 'a' }] }, 'Checks[1].CheckID', '"a"', 'unique');
  rejects({ Name: 'x', Check: { TTL: '1s', CheckID: 'service:x:2' }, Checks: [{ TTL: '1s' }] }, 'Checks[0].CheckID', 'service:x:2');
});

test('check updates: {Status, Output} in any case; Status is required and one of Consul\'s three', () => {
  assert.deepEqual(parseCheckUpdate({ Status: 'warning', Output: 'slow' }), { status: 'warning', output: 'slow' });
  assert.deepEqual(parseCheckUpdate({ status: 'passing' }), { status: 'passing', output: '' });
  for (const [body, field] of [[{}, 'Status'], [{ Status: 'up' }, 'Status'], [{ Status: 'passing', Output: 1 }, 'Output'], ['x', 'request body']] as const) {
    assert.throws(() => parseCheckUpdate(body), (err: unknown) => err instanceof MeshError && err.code === 'BAD_REQUEST' && err.message.includes(field));
  }
});
