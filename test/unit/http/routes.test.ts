import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  HTTP_ADDRESS_METADATA, HTTP_METHODS, HTTP_ROUTES_METADATA, httpNode, parseRoute, rest, routes, routesOf,
} from '../../../src/http/routes.ts';
import { MeshError } from '../../../src/index.ts';

/** Asserts `fn` throws INVALID_ARGUMENT whose detail matches (or contains) `detail`. */
function throwsInvalid(fn: () => unknown, detail: RegExp | string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof MeshError);
    assert.equal(err.code, 'INVALID_ARGUMENT');
    if (typeof detail === 'string') assert.ok(err.detail.includes(detail), err.detail);
    else assert.match(err.detail, detail);
    return true;
  });
}

test('parseRoute reads METHOD /path', () => {
  assert.deepEqual(parseRoute('GET /users/:id'), { method: 'GET', path: '/users/:id' });
  assert.deepEqual(parseRoute('  POST \t /users  '), { method: 'POST', path: '/users' });
  assert.deepEqual(parseRoute('DELETE /'), { method: 'DELETE', path: '/' });
  assert.deepEqual(parseRoute('GET /files/*'), { method: 'GET', path: '/files/*' });
  for (const method of HTTP_METHODS) assert.equal(parseRoute(`${method} /x`).method, method);
});

test('parseRoute refuses a method it does not know, naming the known ones', () => {
  throwsInvalid(() => parseRoute('FETCH /x'), /route method must be one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, got FETCH/);
  throwsInvalid(() => parseRoute('CONNECT /x'), /got CONNECT/);
  throwsInvalid(() => parseRoute('get /x'), /route must be "METHOD \/path", got "get \/x"/); // methods are upper case
});

test('parseRoute refuses text that is not METHOD /path', () => {
  for (const text of ['GET users', 'GET', '/users', 'GET  ', 'GET /a b', 'GET/users', '', 'GET /a\n/b']) {
    throwsInvalid(() => parseRoute(text), `route must be "METHOD /path", got ${JSON.stringify(text)}`);
  }
});

test('parseRoute refuses a comma in the path (the metadata separates routes with commas)', () => {
  throwsInvalid(() => parseRoute('GET /a,b'), /route path may not contain ",", got \/a,b/);
});

test('routesOf reads the comma-separated routes of endpoint metadata', () => {
  assert.deepEqual(routesOf(undefined), []);
  assert.deepEqual(routesOf({}), []);
  assert.deepEqual(routesOf({ [HTTP_ROUTES_METADATA]: '' }), []);
  assert.deepEqual(routesOf({ http: 'GET /users/:id, HEAD /users/:id ,' }), [
    { method: 'GET', path: '/users/:id' },
    { method: 'HEAD', path: '/users/:id' },
  ]);
});

test('routesOf skips malformed entries and reports each with its error', () => {
  const bad: [string, MeshError][] = [];
  const found = routesOf({ http: 'GET /a,bad, ,FETCH /x,POST /b,get /c' }, (text, err) => bad.push([text, err]));
  assert.deepEqual(found, [{ method: 'GET', path: '/a' }, { method: 'POST', path: '/b' }]);
  assert.deepEqual(bad.map(([text]) => text), ['bad', 'FETCH /x', 'get /c']);
  for (const [, err] of bad) {
    assert.ok(err instanceof MeshError);
    assert.equal(err.code, 'INVALID_ARGUMENT');
  }
  // Without a reporter, malformed entries are skipped silently.
  assert.deepEqual(routesOf({ http: 'nope,GET /ok' }), [{ method: 'GET', path: '/ok' }]);
});

test('routes() builds endpoint metadata per handler method, normalised', () => {
  assert.deepEqual(routes({ Get: 'GET /users/:id', List: ['GET /users', '  HEAD   /users '] }), {
    Get: { http: 'GET /users/:id' },
    List: { http: 'GET /users,HEAD /users' },
  });
  assert.deepEqual(routes({}), {});
});

test('routes() round-trips through routesOf', () => {
  const md = routes({ Search: ['GET /search', 'POST /search'] });
  assert.deepEqual(routesOf(md.Search), [{ method: 'GET', path: '/search' }, { method: 'POST', path: '/search' }]);
});

test('routes() throws on a malformed route rather than registering it', () => {
  throwsInvalid(() => routes({ Get: 'GET users' }), /route must be/);
  throwsInvalid(() => routes({ Get: ['GET /ok', 'GET /a,b'] }), /may not contain ","/);
});

test("rest() maps moleculer-web's six REST method names", () => {
  const r = rest('/posts');
  assert.deepEqual(r('List'), { http: 'GET /posts' });
  assert.deepEqual(r('Get'), { http: 'GET /posts/:id' });
  assert.deepEqual(r('Create'), { http: 'POST /posts' });
  assert.deepEqual(r('Update'), { http: 'PUT /posts/:id' });
  assert.deepEqual(r('Patch'), { http: 'PATCH /posts/:id' });
  assert.deepEqual(r('Remove'), { http: 'DELETE /posts/:id' });
  for (const other of ['Delete', 'list', 'Search', '']) assert.equal(r(other), undefined, other);
});

test('rest() answers nothing for method names inherited from Object.prototype', () => {
  const r = rest('/posts');
  for (const name of ['toString', 'constructor', 'valueOf', 'hasOwnProperty', '__proto__']) {
    assert.equal(r(name), undefined, name);
  }
});

test('rest() drops trailing slashes from the base and refuses a base that is no path', () => {
  assert.deepEqual(rest('/posts/')('Get'), { http: 'GET /posts/:id' });
  assert.deepEqual(rest('/posts///')('List'), { http: 'GET /posts' });
  assert.deepEqual(rest('/api/v1/posts')('Remove'), { http: 'DELETE /api/v1/posts/:id' });
  throwsInvalid(() => rest('posts'), /route must be/);
  throwsInvalid(() => rest('/a,b'), /may not contain ","/);
});

test('rest("/") routes at the root, every route well formed', () => {
  const r = rest('/');
  assert.deepEqual(r('List'), { http: 'GET /' });
  assert.deepEqual(r('Get'), { http: 'GET /:id' });
  for (const name of ['List', 'Get', 'Create', 'Update', 'Patch', 'Remove']) {
    assert.doesNotThrow(() => parseRoute(r(name)![HTTP_ROUTES_METADATA]!), name);
  }
});

test('httpNode marks the address of an HTTP server in node metadata', () => {
  assert.deepEqual(httpNode('127.0.0.1:3000'), { [HTTP_ADDRESS_METADATA]: '127.0.0.1:3000' });
  assert.equal(HTTP_ADDRESS_METADATA, 'http-address');
});
