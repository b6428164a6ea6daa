// The gateway starts again after stop (a new HTTP app from the same routes), serving as before.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createService, MemoryRegistry, silentLogger } from 'micromesh';
import { createApiGateway } from 'micromesh/api';

test('stop, then start again: the gateway serves the same routes, twice over', async (t) => {
  const registry = new MemoryRegistry();
  const greeter = createService({ name: 'greeter', registry, logger: silentLogger }).handle('Greeter', { Hello: (r: { name: string }) => ({ msg: `Hello ${r.name}` }) });
  await greeter.start();
  const front = createService({ name: 'gw', registry, logger: silentLogger });
  const gw = createApiGateway({ service: front, address: '127.0.0.1:0' });
  t.after(async () => {
    await gw.stop();
    await front.stop();
    await greeter.stop();
  });
  for (let round = 1; round <= 3; round++) {
    await gw.start();
    const res = await fetch(`http://${gw.address}/greeter/Greeter/Hello`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"name":"R${round}"}` });
    assert.equal(res.status, 200, `round ${round}`);
    assert.deepEqual(await res.json(), { msg: `Hello R${round}` });
    const address = gw.address;
    await gw.stop();
    assert.equal(gw.address, undefined);
    await assert.rejects(fetch(`http://${address}/greeter/Greeter/Hello`, { method: 'POST', body: '{}' }), 'the port is closed after stop');
  }
});
