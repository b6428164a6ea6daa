import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accessPolicy } from '../../../src/http/access.ts';
import { MeshError } from '../../../src/index.ts';

test('with no rules every endpoint is reachable, except internal and Debug ones', () => {
  const may = accessPolicy();
  assert.equal(may('greeter', 'Greeter.Hello'), true);
  assert.equal(may('users', 'Users.Get'), true);
  assert.equal(may('$mesh', 'Mesh.Members'), false);
  assert.equal(may('greeter', 'Debug.Health'), false);
  assert.equal(accessPolicy({ allow: [], deny: [] })('greeter', 'Greeter.Hello'), true);
});

test('a non-empty allow list admits only what it matches', () => {
  const may = accessPolicy({ allow: ['greeter', 'users/Users.Get', 'billing/Invoices.*'] });
  assert.equal(may('greeter', 'Greeter.Hello'), true);
  assert.equal(may('greeter', 'Other.Thing'), true);
  assert.equal(may('users', 'Users.Get'), true);
  assert.equal(may('users', 'Users.Delete'), false);
  assert.equal(may('users', 'Users.GetAll'), false); // anchored
  assert.equal(may('billing', 'Invoices.List'), true);
  assert.equal(may('billing', 'Payments.List'), false);
  assert.equal(may('greeter2', 'Greeter.Hello'), false);
  assert.equal(may('other', 'Greeter.Hello'), false);
});

test('* matches any run of characters; other characters match only themselves', () => {
  const may = accessPolicy({ allow: ['*/Public.*', 'go.micro.*', 'app.v2'] });
  assert.equal(may('anything', 'Public.Read'), true);
  assert.equal(may('anything', 'Private.Read'), false);
  assert.equal(may('go.micro.srv.greeter', 'Greeter.Hello'), true);
  assert.equal(may('go.microX', 'Greeter.Hello'), false);
  assert.equal(may('app.v2', 'App.Run'), true);
  assert.equal(may('appXv2', 'App.Run'), false); // the dot is literal
});

test('deny wins over allow', () => {
  const may = accessPolicy({ allow: ['greeter', 'users'], deny: ['greeter/Greeter.Secret', '*/Admin.*'] });
  assert.equal(may('greeter', 'Greeter.Hello'), true);
  assert.equal(may('greeter', 'Greeter.Secret'), false);
  assert.equal(may('users', 'Admin.Reset'), false);
  assert.equal(may('users', 'Users.Get'), true);
  assert.equal(accessPolicy({ allow: ['greeter'], deny: ['greeter'] })('greeter', 'Greeter.Hello'), false);
});

test('a deny list alone blocks what it matches and admits the rest', () => {
  const may = accessPolicy({ deny: ['*/Admin.*', 'secrets'] });
  assert.equal(may('users', 'Admin.Reset'), false);
  assert.equal(may('secrets', 'Secrets.Get'), false);
  assert.equal(may('users', 'Users.Get'), true);
});

test('the internal $mesh service is never reachable, whatever the rules', () => {
  for (const allow of [['*'], ['$mesh'], ['$mesh/*'], ['*/*']]) {
    const may = accessPolicy({ allow });
    assert.equal(may('$mesh', 'Mesh.Members'), false, allow.join());
    assert.equal(may('$mesh', 'Debug.Health'), false, allow.join());
  }
});

test('Debug.* is reachable only when an allow pattern names Debug itself', () => {
  const endpoint = 'Debug.Health';
  for (const allow of [['*'], ['greeter'], ['greeter/*'], ['*/*'], ['greeter/D*'], ['greeter/*.Health']]) {
    assert.equal(accessPolicy({ allow })('greeter', endpoint), false, allow.join());
  }
  assert.equal(accessPolicy({ allow: ['greeter/Debug.*'] })('greeter', endpoint), true);
  assert.equal(accessPolicy({ allow: ['greeter/Debug.Health'] })('greeter', endpoint), true);
  assert.equal(accessPolicy({ allow: ['greeter/Debug.Health'] })('greeter', 'Debug.Stats'), false);
  assert.equal(accessPolicy({ allow: ['*/Debug.*'] })('users', endpoint), true);
  assert.equal(accessPolicy({ allow: ['greeter/Debug.*'] })('users', endpoint), false);
  // Deny still wins over an explicit Debug allow.
  assert.equal(accessPolicy({ allow: ['*/Debug.*'], deny: ['greeter'] })('greeter', endpoint), false);
});

test('patterns are trimmed', () => {
  const may = accessPolicy({ allow: ['  greeter/Greeter.Hello  '] });
  assert.equal(may('greeter', 'Greeter.Hello'), true);
  assert.equal(may('greeter', 'Greeter.Bye'), false);
});

test('an invalid pattern throws INVALID_CONFIG naming it, in allow and in deny', () => {
  for (const bad of ['', ' ', 'a/b/c', 'greeter/', '/Greeter.Hello', 'foo bar', 'greeter/Greeter Hello', 'greeter/$x', 'a?b', 'a,b']) {
    for (const rules of [{ allow: [bad] }, { deny: [bad] }]) {
      assert.throws(() => accessPolicy(rules), (err: unknown) => {
        assert.ok(err instanceof MeshError);
        assert.equal(err.code, 'INVALID_CONFIG');
        assert.ok(err.detail.includes(JSON.stringify(bad)), err.detail);
        return true;
      }, JSON.stringify(rules));
    }
  }
});
