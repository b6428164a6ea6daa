// Brokers across real processes on 127.0.0.1 (membership from the test
// coordinator until the SWIM mesh lands). Partition/heal and
// network-namespace runs come with the mesh (issue 5, noted in docs/pubsub.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { until } from '../compliance/broker.ts';
import { Cluster } from './cluster.ts';

for (const kind of ['direct', 'gossip'] as const) {
  test(`${kind} across processes: broadcast reaches every subscriber; a queue group splits work with nothing handled twice`, async () => {
    const c = new Cluster(kind);
    try {
      await c.start(['pub', 's1', 's2', 's3']);
      for (const s of ['s1', 's2', 's3']) {
        await c.cmd(s, { cmd: 'sub', topic: 'news.*', label: `b-${s}` });
        await c.cmd(s, { cmd: 'sub', topic: 'jobs', queue: 'workers', label: 'q' });
      }
      await c.settle();
      await c.cmd('pub', { cmd: 'pub', topic: 'news.today', n: 200, prefix: 'n' });
      await c.cmd('pub', { cmd: 'pub', topic: 'jobs', n: 600, prefix: 'j' });
      await until(() => ['s1', 's2', 's3'].every((s) => c.got(`b-${s}`).length >= 200) && c.got('q').length >= 600, 'all deliveries', 30_000);
      await new Promise((r) => setTimeout(r, 200));
      for (const s of ['s1', 's2', 's3']) {
        const bodies = c.got(`b-${s}`).map((r) => r.body);
        assert.equal(bodies.length, 200);
        assert.equal(new Set(bodies).size, 200);
      }
      const jobs = c.got('q');
      assert.equal(jobs.length, 600, 'a job was handled twice');
      assert.equal(new Set(jobs.map((r) => r.body)).size, 600);
      assert.ok(new Set(jobs.map((r) => r.from)).size >= 2, 'the queue group did not share the work');
    } finally {
      await c.close();
    }
  });

  test(`${kind} across processes: SIGKILL of a queue consumer mid-stream loses no message`, async () => {
    const c = new Cluster(kind);
    try {
      await c.start(['pub', 'w1', 'w2', 'w3']);
      for (const w of ['w1', 'w2', 'w3']) await c.cmd(w, { cmd: 'sub', topic: 'work', queue: 'w', label: 'w', delayMs: 2 });
      await c.settle();
      const total = 900;
      const publishing = c.cmd('pub', { cmd: 'pub', topic: 'work', n: total, prefix: 'm' });
      await until(() => c.got('w').filter((r) => r.from === 'w2').length >= 30, 'w2 busy');
      await c.kill('w2');
      await publishing;
      const handled = (): Set<unknown> => new Set(c.got('w').map((r) => r.body));
      await until(() => handled().size >= total, 'every message handled', 60_000);
      assert.equal(handled().size, total);
      const redelivered = c.got('w').filter((r) => Number(r.attempt) > 1);
      assert.ok(redelivered.every((r) => r.from !== 'w2'));
    } finally {
      await c.close();
    }
  });

  test(`${kind} across processes: a node joining later receives subsequent messages`, async () => {
    const c = new Cluster(kind);
    try {
      await c.start(['pub', 'early']);
      await c.cmd('early', { cmd: 'sub', topic: 'feed', label: 'early' });
      await c.settle();
      await c.cmd('pub', { cmd: 'pub', topic: 'feed', n: 50, prefix: 'before' });
      await c.add('late');
      await c.cmd('late', { cmd: 'sub', topic: 'feed', label: 'late' });
      await c.settle();
      await c.cmd('pub', { cmd: 'pub', topic: 'feed', n: 50, prefix: 'after' });
      await until(() => c.got('late').length >= 50 && c.got('early').length >= 100, 'deliveries after the join', 30_000);
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(c.got('late').map((r) => r.body).sort(), Array.from({ length: 50 }, (_, i) => `after${i}`).sort());
    } finally {
      await c.close();
    }
  });
}
