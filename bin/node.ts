#!/usr/bin/env node
// The `micromesh` command: global flags, then one module per command
// (bin/cli/commands/, see docs/ARCHITECTURE.md "Adding a command"). Command
// modules import only commander and light helpers at load; each action
// imports the mesh parts it needs, so `--help` and `--version` start fast.
import { Command, Option } from 'commander';
import { MeshError } from '../src/errors/errors.ts';
import * as api from './cli/commands/api.ts';
import * as call from './cli/commands/call.ts';
import * as certs from './cli/commands/certs.ts';
import * as health from './cli/commands/health.ts';
import * as keygen from './cli/commands/keygen.ts';
import * as keys from './cli/commands/keys.ts';
import * as members from './cli/commands/members.ts';
import * as newProject from './cli/commands/new.ts';
import * as publish from './cli/commands/publish.ts';
import * as run from './cli/commands/run.ts';
import * as service from './cli/commands/service.ts';
import * as services from './cli/commands/services.ts';
import * as sidecar from './cli/commands/sidecar.ts';
import * as agent from './cli/commands/agent.ts';
import * as kv from './cli/commands/kv.ts';
import * as web from './cli/commands/web.ts';
import * as bot from './cli/commands/bot.ts';
import * as stats from './cli/commands/stats.ts';
import * as top from './cli/commands/top.ts';
import * as stream from './cli/commands/stream.ts';
import * as subscribe from './cli/commands/subscribe.ts';
import { createCli } from './cli/context.ts';
import { withTlsOptions } from './cli/tls-flags.ts';
import { parsePort } from './cli/options.ts';
import { packageVersion } from './cli/version.ts';

const program = new Command('micromesh')
  .description('peer-to-peer microservices with no infrastructure')
  .version(packageVersion(), '-V, --version', 'print the version')
  .option('--join <host:port,...>', 'gossip addresses of nodes to join (else mDNS finds them)', process.env.MICROMESH_JOIN)
  .option('--registry <mesh|etcd://host:port>', 'where services are listed: the mesh, or etcd', process.env.MICROMESH_REGISTRY ?? 'mesh')
  .option('--broker <direct|gossip|nats://host:port>', 'how messages travel: the mesh brokers, or NATS', process.env.MICROMESH_BROKER ?? 'direct')
  .option('--cluster <name>', 'cluster name: meshes with other names never merge', process.env.MICROMESH_CLUSTER ?? 'micromesh')
  .option('--key <base64>', 'gossip encryption key (32 bytes, base64; see keygen)', process.env.MICROMESH_KEY)
  .option('--no-mdns', 'do not use mDNS (seeds only)')
  .addOption(new Option('--mdns-port <port>', 'mDNS UDP port').argParser(parsePort).hideHelp())
  .option('--interface <name|ip>', 'use only this network interface (bind, announce, mDNS)')
  .option('--json', 'print JSON')
  .addOption(new Option('--log-level <level>', 'log lines at this level and above, on stderr')
    .choices(['debug', 'info', 'warn', 'error', 'silent']).default(process.env.MICROMESH_LOG_LEVEL ?? 'warn'));

const cli = createCli(program);
for (const command of [run, api, sidecar, agent, web, bot, services, service, members, call, stream, health, stats, top, publish, subscribe, kv, keygen, keys, certs, newProject]) command.register(program, cli);
// The commands that call into the mesh (through cli.withMesh) reach a mutual-TLS mesh with the member's flags.
const CALLERS = new Set(['services', 'service', 'members', 'call', 'stream', 'health', 'stats', 'top', 'publish', 'keys']);
for (const c of program.commands) {
  if (!CALLERS.has(c.name())) continue;
  if (c.commands.length === 0) withTlsOptions(c);
  else for (const sub of c.commands) withTlsOptions(sub); // `keys list|install|use|remove`: the flags go with the subcommand
}

try {
  await program.parseAsync();
} catch (err) {
  if (err instanceof MeshError) {
    console.error(`error: ${err.code}: ${err.detail}`);
    process.exit(1);
  }
  throw err;
}
