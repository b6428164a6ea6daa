import { createHash } from 'node:crypto';
import type { Command } from 'commander';
import type { Cli } from '../context.ts';
import type { Connected } from '../connect.ts';
import { MeshError } from '../../../src/errors/index.ts';
import { RPC_KEY } from '../../../src/membership/keys.ts';
import { INTERNAL_SERVICE, KEYRING_INSTALL, KEYRING_LIST, KEYRING_REMOVE, KEYRING_USE, type InternalEndpoint } from '../../../src/rpc/internal.ts';
import { parseKey } from '../options.ts';
import { print } from '../print.ts';

/** One live member's answer. */
interface NodeResult {
  id: string;
  address: string;
  ok: boolean;
  code?: string;
  detail?: string;
  keys?: string[];
  primary?: string;
}

/**
 * `micromesh keys list|install|use|remove`: the gossip keyring of every live
 * member, like `serf keys`. Rotation without downtime is install (everyone
 * decrypts the new key), use (everyone encrypts with it), remove the old one.
 * Each step goes to every live member over RPC; exit code 1 if any failed,
 * so the operator re-runs the step before taking the next.
 */
export function register(program: Command, cli: Cli): void {
  const keys = program.command('keys').description('manage the gossip encryption keys of every live member (rotation: install, use, remove)');
  const timeout = (c: Command): Command => c.option('--timeout <ms>', 'timeout per node', (v) => Number(v), 5000);
  timeout(keys.command('list').description('each key fingerprint (SHA-256, 16 hex) with how many nodes hold it, and each node\'s primary'))
    .action((o: { timeout: number }) => cli.withMesh(async (c) => {
      const results = await everyNode(cli, c, KEYRING_LIST, {}, o.timeout);
      const counts = new Map<string, number>();
      for (const r of results) for (const k of r.keys ?? []) counts.set(k, (counts.get(k) ?? 0) + 1);
      const total = results.length;
      const keyRows = [...counts].map(([fingerprint, nodes]) => ({ fingerprint, nodes }));
      print(cli.flags().json, { total, keys: keyRows, nodes: results }, () => [
        ['KEY', 'NODES'], ...keyRows.map((k) => [k.fingerprint, `${k.nodes}/${total}`]),
        [''], ['NODE', 'ADDRESS', 'PRIMARY'], ...results.map((r) => [r.id, r.address, r.ok ? r.primary ?? '' : `failed: ${r.code}: ${r.detail}`]),
      ]);
      if (results.some((r) => !r.ok)) process.exitCode = 1;
    }));
  const change = [
    ['install', KEYRING_INSTALL, 'install a key on every live member (it decrypts; the primary still encrypts)'],
    ['use', KEYRING_USE, 'make an installed key the primary (the one that encrypts) on every live member'],
    ['remove', KEYRING_REMOVE, 'remove a key (not the primary) from every live member'],
  ] as const;
  for (const [name, endpoint, description] of change) {
    timeout(keys.command(name).description(description).argument('<key>', '32 bytes in base64', parseKey))
      .action((key: Uint8Array, o: { timeout: number }) => cli.withMesh(async (c) => {
        const results = await everyNode(cli, c, endpoint, { key: Buffer.from(key).toString('base64') }, o.timeout);
        const fp = createHash('sha256').update(key).digest('hex').slice(0, 16);
        print(cli.flags().json, { key: fp, nodes: results }, () => [
          ['NODE', 'ADDRESS', 'RESULT'],
          ...results.map((r) => [r.id, r.address, r.ok ? 'ok' : `failed: ${r.code}: ${r.detail}`]),
        ]);
        if (results.some((r) => !r.ok)) process.exitCode = 1;
      }));
  }
}

/** Calls `endpoint` on every live member at once, by the RPC address of its record. */
async function everyNode(cli: Cli, c: Connected, endpoint: InternalEndpoint, req: object, timeoutMs: number): Promise<NodeResult[]> {
  if (cli.mesh().registry.kind !== 'mesh') throw new MeshError('INVALID_CONFIG', 'keys manages the mesh\'s gossip keys: with --registry etcd there is no mesh to reach');
  const records = new Map(c.view.records.map((r) => [r.id, r.data[RPC_KEY]]));
  const live = c.view.members.filter((m) => m.state === 'alive' || m.state === 'suspect');
  const results = await Promise.all(live.map(async (m): Promise<NodeResult> => {
    const address = records.get(m.id);
    if (typeof address !== 'string') return { id: m.id, address: '', ok: false, code: 'UNAVAILABLE', detail: 'its record (with its RPC address) could not be read' };
    try {
      const res = await c.service.client.call<{ keys: string[]; primary: string }>(INTERNAL_SERVICE, endpoint.endpoint, req, { address, timeoutMs, retries: 0 });
      return { id: m.id, address, ok: true, keys: res.keys, primary: res.primary };
    } catch (err) {
      const e = err instanceof MeshError ? err : new MeshError('INTERNAL', String(err));
      return { id: m.id, address, ok: false, code: e.code, detail: e.detail };
    }
  }));
  return results.sort((a, b) => a.id.localeCompare(b.id));
}
