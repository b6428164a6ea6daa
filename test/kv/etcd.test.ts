// The key/value store on a real etcd (started on 127.0.0.1 with a temporary data dir, stopped by PID): the
// compliance suite with check-and-set; a service on the etcd registry gets it as service.kv; Consul's
// /v1/kv on such a service honours ?cas (false when the check fails), as Consul does.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { EtcdKv, createService, silentLogger, type Service } from '../../src/index.ts';
import { createAgent } from '../../src/agent/index.ts';
import { etcdGate, type Etcd } from '../support/etcd.ts';
import { kvCompliance } from '../compliance/kv.ts';

const gate = await etcdGate();
let etcd: Etcd | undefined;
const stores: EtcdKv[] = [];
before(async () => {
  if (gate.skip === false) etcd = await gate.start();
});
after(async () => {
  for (const s of stores) await s.close();
  await etcd?.dispose();
});

if (gate.skip === false) {
  kvCompliance('etcd', async () => {
    const kv = new EtcdKv({ hosts: etcd!.url, prefix: `t${process.pid}/` });
    const other = new EtcdKv({ hosts: etcd!.url, prefix: `t${process.pid}/` });
    stores.push(kv, other);
    return { cas: true, writer: kv, reader: other };
  });
}

test('a service on the etcd registry gets the etcd store; the agent\'s /v1/kv honours cas on it', { skip: gate.skip }, async () => {
  const svc: Service = createService({ name: 'on-etcd', mesh: false, registry: { etcd: { hosts: etcd!.url } }, broker: 'memory', logger: silentLogger });
  await svc.start();
  const agent = createAgent({ service: svc, httpAddress: '127.0.0.1:0', dnsAddress: '' });
  await agent.start();
  try {
    assert.equal(svc.kv.name, 'etcd');
    const base = `http://${agent.httpAddress}/v1/kv/locks/leader`;
    const put = async (q: string, body: string): Promise<unknown> => (await fetch(`${base}${q}`, { method: 'PUT', body })).json();
    assert.equal(await put('?cas=0', 'node-a'), true, 'created');
    assert.equal(await put('?cas=0', 'node-b'), false, 'a second create-only write loses');
    const [pair] = (await (await fetch(base)).json()) as { ModifyIndex: number; Value: string }[];
    assert.equal(Buffer.from(pair!.Value, 'base64').toString(), 'node-a');
    assert.equal(await put(`?cas=${pair!.ModifyIndex}`, 'node-c'), true);
    assert.equal(await put(`?cas=${pair!.ModifyIndex}`, 'node-d'), false, 'a stale index loses');
  } finally {
    await agent.stop();
    await svc.stop();
  }
});
