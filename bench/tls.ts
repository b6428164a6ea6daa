// What the `micromesh-tls` row of bench:rpc changes, in both processes:
// mutual TLS 1.3 on the RPC connection (ServiceOptions.tls). Throwaway
// certificates go into a temporary directory named after the parent
// (bench/rpc.ts), made by the server process, which starts first, and read
// by the client: one CA and one node certificate (serverAuth + clientAuth)
// serve both ends.
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServiceOptions } from 'micromesh';
import { makeCa, makeNodeCert } from '../bin/cli/certs/make.ts';

export async function tlsFor(mode: string): Promise<Pick<ServiceOptions, 'tls'>> {
  if (mode !== 'micromesh-tls') return {};
  const dir = join(tmpdir(), `micromesh-bench-tls-${process.ppid}`);
  const files = { ca: join(dir, 'ca.crt'), cert: join(dir, 'node.crt'), key: join(dir, 'node.key') };
  if (!existsSync(files.key)) {
    const ca = await makeCa();
    const node = await makeNodeCert(ca, { name: 'bench', ips: ['127.0.0.1'] });
    await mkdir(dir, { recursive: true });
    await writeFile(files.ca, ca.cert);
    await writeFile(files.cert, node.cert);
    await writeFile(files.key, node.key, { mode: 0o600 });
  }
  const [ca, cert, key] = await Promise.all([readFile(files.ca, 'utf8'), readFile(files.cert, 'utf8'), readFile(files.key, 'utf8')]);
  return { tls: { ca, cert, key } };
}
