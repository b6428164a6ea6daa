import { test } from 'node:test';
import assert from 'node:assert/strict';
import { firstSegment, resolvePath, titleCase, withNamespace } from '../../../src/http/resolve.ts';

test("Go Micro's micro resolver table, adapted: no default namespace, a leading /vN/ selects a version", () => {
  const table: [string, string, string, string | undefined][] = [
    ['/greeter/say/hello', 'greeter', 'Say.Hello', undefined],
    ['/greeter/hello', 'greeter', 'Greeter.Hello', undefined],
    ['/v1/greeter/hello', 'greeter', 'Greeter.Hello', 'v1'],
    ['/foo/bar', 'foo', 'Foo.Bar', undefined],
    ['/foo/bar/baz', 'foo', 'Bar.Baz', undefined],
    ['/foo/bar/get-user', 'foo', 'Bar.GetUser', undefined],
    ['/foo/bar/baz/cat', 'foo.bar', 'Baz.Cat', undefined],
    ['/v1/foo/bar/baz', 'foo', 'Bar.Baz', 'v1'],
    ['/v12/foo/bar/baz/cat', 'foo.bar', 'Baz.Cat', 'v12'],
  ];
  for (const [path, service, endpoint, version] of table) {
    assert.deepEqual(resolvePath(path), { service, endpoint, version }, path);
  }
});

test('a version segment followed by a single segment is the service itself, not a version', () => {
  assert.deepEqual(resolvePath('/v1/foo'), { service: 'v1', endpoint: 'V1.Foo', version: undefined });
});

test('fewer than two segments name nothing', () => {
  for (const path of ['', '/', '//', '/foo', '/foo/', '/foo?x=1']) assert.equal(resolvePath(path), undefined, path);
});

test('a segment that cannot be part of a name makes the path name nothing', () => {
  for (const path of ['/foo/../bar', '/../etc/passwd', '/foo/./bar', '/foo bar/baz', '/foo/ba r', '/foo/%2e%2e/bar', '/-foo/bar', '/foo/bar.baz', '/foo/b@r']) {
    assert.equal(resolvePath(path), undefined, path);
  }
});

test('the query string is ignored; empty segments (double or trailing slashes) are skipped', () => {
  const hello = { service: 'greeter', endpoint: 'Greeter.Hello', version: undefined };
  assert.deepEqual(resolvePath('/greeter/hello?name=ann&x=/a/b'), hello);
  assert.deepEqual(resolvePath('/greeter/hello/'), hello);
  assert.deepEqual(resolvePath('//greeter//hello'), hello);
  assert.equal(resolvePath('/greeter?/say/hello'), undefined);
});

test('the namespace prefixes the service name', () => {
  assert.equal(resolvePath('/greeter/hello', 'ns')?.service, 'ns.greeter');
  assert.equal(resolvePath('/greeter/hello', 'ns.')?.service, 'ns.greeter');
  assert.equal(resolvePath('/greeter/hello', 'ns-')?.service, 'ns-greeter');
  assert.equal(resolvePath('/foo/bar/baz/cat', 'go.micro.api')?.service, 'go.micro.api.foo.bar');
  assert.equal(resolvePath('/v1/greeter/hello', 'ns')?.service, 'ns.greeter');
  assert.equal(resolvePath('/greeter/hello', '')?.service, 'greeter');
});

test('withNamespace joins with a dot, concatenates after a trailing dot or dash, and leaves names alone without one', () => {
  assert.equal(withNamespace('ns', 'greeter'), 'ns.greeter');
  assert.equal(withNamespace('go.micro.api', 'greeter'), 'go.micro.api.greeter');
  assert.equal(withNamespace('ns.', 'greeter'), 'ns.greeter');
  assert.equal(withNamespace('ns-', 'greeter'), 'ns-greeter');
  assert.equal(withNamespace('', 'greeter'), 'greeter');
});

test('titleCase upper-cases the first letter of each dash-separated part and drops the dashes', () => {
  assert.equal(titleCase('hello'), 'Hello');
  assert.equal(titleCase('get-user'), 'GetUser');
  assert.equal(titleCase('get-user-by-id'), 'GetUserById');
  assert.equal(titleCase('getUser'), 'GetUser');
  assert.equal(titleCase('a--b-'), 'AB');
  assert.equal(titleCase('get_user'), 'Get_user');
  assert.equal(titleCase('v1'), 'V1');
  assert.equal(titleCase(''), '');
});

test('firstSegment is the first path segment when it can be a service name', () => {
  assert.equal(firstSegment('/greeter/say/hello'), 'greeter');
  assert.equal(firstSegment('/greeter'), 'greeter');
  assert.equal(firstSegment('/greeter/'), 'greeter');
  assert.equal(firstSegment('/greeter?x=1'), 'greeter');
  assert.equal(firstSegment('/go.micro.web.app/index.html'), 'go.micro.web.app');
  assert.equal(firstSegment('/my-app_2/x'), 'my-app_2');
  for (const path of ['', '/', '//greeter', 'greeter/x', '/.hidden', '/-app', '/_app', '/foo bar', '/foo%20bar/x', '/foo#x']) {
    assert.equal(firstSegment(path), undefined, path);
  }
});
