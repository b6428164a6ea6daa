// The files `micromesh certs` writes: DIR/ca.crt + DIR/ca.key for the CA,
// DIR/NAME.crt + DIR/NAME.key for a node. Keys are written 0600 and never
// overwritten (a CA key replaced by mistake would orphan every node certificate).
import { constants } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { MeshError } from '../../../src/errors/errors.ts';
import { makeCa, makeNodeCert, type CertPair } from './make.ts';

export interface Written {
  cert: string;
  key: string;
}

async function write(dir: string, base: string, pair: CertPair): Promise<Written> {
  await mkdir(dir, { recursive: true });
  const cert = join(dir, `${base}.crt`);
  const key = join(dir, `${base}.key`);
  // O_EXCL: refuse to replace an existing key rather than race a check.
  const excl = constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY;
  try {
    await writeFile(key, pair.key, { mode: 0o600, flag: excl });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new MeshError('INVALID_ARGUMENT', `${key} exists; remove it first or pick another --out`);
    throw err;
  }
  await writeFile(cert, pair.cert, { mode: 0o644 });
  return { cert, key };
}

/** Makes a CA in `dir`. */
export async function writeCa(dir: string, o: { days?: number; name?: string } = {}): Promise<Written> {
  return write(dir, 'ca', await makeCa(o));
}

/** Makes a node certificate signed by the CA in `caDir`, into `dir`. */
export async function writeNode(name: string, caDir: string, dir: string, o: { ips?: string[]; days?: number } = {}): Promise<Written> {
  if (!/^[\w.-]{1,64}$/.test(name) || name === 'ca' || name.startsWith('.')) {
    throw new MeshError('INVALID_ARGUMENT', `node name must be 1 to 64 letters, digits, '.', '_' or '-' (not "ca", not starting with '.'), got ${JSON.stringify(name)}`);
  }
  for (const ip of o.ips ?? []) if (isIP(ip) === 0) throw new MeshError('INVALID_ARGUMENT', `--ip must be IPv4 or IPv6 addresses, got ${JSON.stringify(ip)}`);
  const read = async (f: string): Promise<string> => readFile(join(caDir, f), 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new MeshError('INVALID_ARGUMENT', `--ca: cannot read ${join(caDir, f)} (${err.code ?? err.message}); make one with "micromesh certs ca --out DIR"`);
  });
  const ca = { cert: await read('ca.crt'), key: await read('ca.key') };
  return write(dir, name, await makeNodeCert(ca, { name, ips: o.ips, days: o.days }));
}
