// The --tls-* flags of the commands that join or call a mutual-TLS mesh
// (kept apart from member.ts so the CLI context can read them without a cycle).
import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { MeshError } from '../../src/errors/errors.ts';
import type { ServiceOptions } from '../../src/mesh/types.ts';

/**
 * `--tls-ca`, `--tls-cert`, `--tls-key` (PEM files; env MICROMESH_TLS_CA,
 * MICROMESH_TLS_CERT, MICROMESH_TLS_KEY): mutual TLS for the member's RPC.
 * A command adds them with `withTlsOptions(command)` and passes `tlsOf(o)` on.
 */
export function withTlsOptions(command: Command): Command {
  return command
    .addOption(new Option('--tls-ca <file>', 'mutual TLS for RPC: the mesh CA certificate (PEM; see "micromesh certs")').env('MICROMESH_TLS_CA'))
    .addOption(new Option('--tls-cert <file>', 'mutual TLS for RPC: this node\'s certificate (PEM)').env('MICROMESH_TLS_CERT'))
    .addOption(new Option('--tls-key <file>', 'mutual TLS for RPC: this node\'s private key (PEM)').env('MICROMESH_TLS_KEY'));
}

/** The `tls` service option from the three files: all or none must be given. */
export function tlsOf(o: object): Pick<ServiceOptions, 'tls'> {
  const { tlsCa, tlsCert, tlsKey } = o as { tlsCa?: string; tlsCert?: string; tlsKey?: string };
  const given = { '--tls-ca': tlsCa, '--tls-cert': tlsCert, '--tls-key': tlsKey };
  const missing = Object.entries(given).filter(([, v]) => v === undefined).map(([k]) => k);
  if (missing.length === 3) return {};
  if (missing.length > 0) throw new MeshError('INVALID_ARGUMENT', `mutual TLS needs --tls-ca, --tls-cert and --tls-key; missing ${missing.join(', ')}`);
  const read = (flag: string, file: string): string => {
    try {
      return readFileSync(file, 'utf8');
    } catch (err) {
      throw new MeshError('INVALID_ARGUMENT', `${flag}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
  };
  return { tls: { ca: read('--tls-ca', tlsCa!), cert: read('--tls-cert', tlsCert!), key: read('--tls-key', tlsKey!) } };
}
