import type { Command } from 'commander';
import type { Cli } from '../context.ts';
import type { Connected } from '../connect.ts';
import { MeshError } from '../../../src/errors/index.ts';
import { RPC_KEY } from '../../../src/membership/keys.ts';
import { KvRemote } from '../../../src/kv/remote.ts';
import type { KeyValueStore, KvEntry } from '../../../src/kv/types.ts';
import { parseInteger } from '../options.ts';
import { print } from '../print.ts';

const text = (v: Uint8Array): string => Buffer.from(v).toString('utf8');
const json = (e: KvEntry) => ({ key: e.key, value: text(e.value), flags: e.flags, createIndex: e.createIndex, modifyIndex: e.modifyIndex });

/**
 * `micromesh kv get|put|delete|list|watch`: the mesh's key/value store (Consul's
 * `consul kv`), through one live member: reads are its copy, writes return
 * once the store's durability holds (min(3, live) nodes). With
 * `--registry etcd://...`, the etcd-backed store (with `--cas`).
 */
export function register(program: Command, cli: Cli): void {
  const kv = program.command('kv').description('read and write the mesh\'s key/value store (docs/kv.md)');
  kv.command('get').description('print a key\'s value (exit 1 when missing)').argument('<key>')
    .option('--detailed', 'also print flags and indexes')
    .action((key: string, o: { detailed?: boolean }) => withKv(cli, async (store) => {
      const e = await store.get(key);
      if (e === undefined) {
        console.error(`Error! No key exists at: ${key}`);
        process.exitCode = 1;
        return;
      }
      if (cli.flags().json) print(true, json(e), () => []);
      else if (o.detailed) print(false, null, () => [['Key', e.key], ['Value', text(e.value)], ['Flags', String(e.flags)], ['CreateIndex', String(e.createIndex)], ['ModifyIndex', String(e.modifyIndex)]]);
      else process.stdout.write(`${text(e.value)}\n`);
    }));
  kv.command('put').description('set a key (value "-" reads stdin)').argument('<key>').argument('[value]', 'the value; empty when left out', '')
    .option('--flags <n>', 'Consul flags stored with it', parseInteger, 0)
    .option('--cas <index>', 'write only if the key\'s ModifyIndex is this (0: only if absent); etcd-backed stores only', parseInteger)
    .action((key: string, value: string, o: { flags: number; cas?: number }) => withKv(cli, async (store) => {
      const bytes = value === '-' ? await stdin() : Buffer.from(value, 'utf8');
      const e = await store.put(key, bytes, { flags: o.flags, cas: o.cas });
      if (cli.flags().json) print(true, json(e), () => []);
      else console.log(`Success! Data written to: ${key}`);
    }));
  kv.command('delete').description('delete a key (or, with --recurse, every key under it)').argument('<key>')
    .option('--recurse', 'delete the prefix')
    .action((key: string, o: { recurse?: boolean }) => withKv(cli, async (store) => {
      const n = await store.delete(key, { recurse: o.recurse === true });
      if (cli.flags().json) print(true, { key, deleted: n }, () => []);
      else console.log(`Success! Deleted ${o.recurse ? `keys with prefix: ${key} (${n})` : `key: ${key}`}`);
    }));
  kv.command('list').description('keys under a prefix, with their values').argument('[prefix]', 'the prefix', '')
    .action((prefix: string) => withKv(cli, async (store) => {
      const entries = await store.list(prefix);
      print(cli.flags().json, entries.map(json), () => [['KEY', 'FLAGS', 'MODIFY', 'VALUE'], ...entries.map((e) => [e.key, String(e.flags), String(e.modifyIndex), oneLine(text(e.value))])]);
    }));
  kv.command('watch').description('print each change under a prefix, until interrupted').argument('[prefix]', 'the prefix', '')
    .action((prefix: string) => withKv(cli, async (store) => {
      const stop = new AbortController();
      process.once('SIGINT', () => stop.abort());
      process.once('SIGTERM', () => stop.abort());
      const w = store.watch(prefix, { signal: stop.signal });
      console.log(JSON.stringify({ watching: prefix, index: await store.index(prefix) }));
      for await (const ev of w) {
        console.log(JSON.stringify(ev.type === 'put' ? { type: 'put', ...json(ev.entry) } : ev));
      }
    }));
}

/** The store of one live member (picked at random): reads are its copy, writes go through it. On etcd, etcd itself. */
async function withKv(cli: Cli, fn: (kv: KeyValueStore) => Promise<void>): Promise<void> {
  const m = cli.mesh();
  if (m.registry.kind === 'etcd') {
    const { EtcdKv } = await import('../../../src/kv/etcd.ts');
    const kv = new EtcdKv({ hosts: m.registry.hosts });
    try {
      return await fn(kv);
    } finally {
      await kv.close();
    }
  }
  await cli.withMesh(async (c: Connected) => {
    const live = new Set(c.view.members.filter((m) => m.state === 'alive' || m.state === 'suspect').map((m) => m.id));
    const addresses = c.view.records.filter((r) => live.has(r.id)).map((r) => r.data[RPC_KEY]).filter((a): a is string => typeof a === 'string');
    if (addresses.length === 0) throw new MeshError('NO_MESH_FOUND', 'no live member to read the key/value store from', { id: 'micromesh.cli' });
    await fn(new KvRemote({ client: c.service.client, address: addresses[Math.floor(Math.random() * addresses.length)]! }));
  });
}

function oneLine(s: string): string {
  const flat = s.replace(/\s+/g, ' ');
  return flat.length > 60 ? `${flat.slice(0, 59)}…` : flat;
}

async function stdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
