import { InvalidArgumentError, type Command } from 'commander';

interface CaOpts { out: string; days?: number; name?: string }
interface NodeOpts { ca: string; out: string; ip?: string[]; days?: number }

function parseDays(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 36_500) throw new InvalidArgumentError(`days must be an integer in [1, 36500], got "${text}"`);
  return n;
}

const collectIps = (v: string, prev: string[] = []): string[] => [...prev, ...v.split(',').map((s) => s.trim()).filter((s) => s !== '')];

/**
 * `micromesh certs ca|node`: a private CA and node certificates for mutual
 * TLS between services (--tls-ca/--tls-cert/--tls-key, ServiceOptions.tls).
 */
export function register(program: Command): void {
  const certs = program.command('certs').description('make a CA and node certificates for mutual TLS between services');
  certs.command('ca')
    .description('make a CA: DIR/ca.key (keep it private) and DIR/ca.crt (give it to every node)')
    .requiredOption('--out <dir>', 'directory to write to')
    .option('--days <n>', 'validity in days (default 3650)', parseDays)
    .option('--name <cn>', 'subject common name (default "micromesh CA")')
    .action(async (o: CaOpts) => {
      const { writeCa } = await import('../certs/files.ts');
      print(await writeCa(o.out, { days: o.days, name: o.name }));
    });
  certs.command('node')
    .description('make a node key and certificate signed by the CA: DIR/NAME.key and DIR/NAME.crt (client and server use)')
    .argument('<name>', 'node name (common name and DNS name in the certificate, and the file names)')
    .requiredOption('--ca <dir>', 'the CA directory (ca.crt and ca.key)')
    .requiredOption('--out <dir>', 'directory to write to')
    .option('--ip <ip,...>', 'IP addresses to put in the certificate (repeatable)', collectIps)
    .option('--days <n>', 'validity in days (default 825)', parseDays)
    .action(async (name: string, o: NodeOpts) => {
      const { writeNode } = await import('../certs/files.ts');
      print(await writeNode(name, o.ca, o.out, { ips: o.ip, days: o.days }));
    });
}

function print(w: { cert: string; key: string }): void {
  console.log(JSON.stringify(w));
}
