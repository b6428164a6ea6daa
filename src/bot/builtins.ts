import {
  callNodes, endpointSchemas, schemaLines, streamKind, toMeshError, type Clock, type DebugStats, type Service,
} from '../index.ts';
import { jsonArg, usage, words, type BotCommand, type CommandContext } from './command.ts';
import type { BotConfig } from './config.ts';
import type { Formatter } from './format.ts';
import type { Reply } from './types.ts';

export interface BuiltinDeps {
  service: Service;
  config: BotConfig;
  format: Formatter;
  clock: Clock;
  /** `help`'s listing: every command the bot knows now. */
  commands: () => BotCommand[];
}

type Spec = Omit<BotCommand, 'source'>;

/** micro bot's commands, and the CLI's: help, services, service, call, stream, health, stats, members, publish, ping, time, echo. */
export function builtins(d: BuiltinDeps): BotCommand[] {
  const f = d.format;
  const svc = d.service;
  const reg = svc.registry;
  const name1 = (ctx: CommandContext, use: string): string => {
    const [[n]] = words(ctx.args, 1);
    if (n === undefined) throw usage(`usage: ${use}`);
    return n;
  };
  const specs: Spec[] = [
    {
      name: 'help', usage: 'help', description: 'list the commands', mutating: false,
      exec: async () => f.table(['COMMAND', 'WHAT'], d.commands().map((c) => [c.usage, `${c.description}${c.mutating ? ' (allowlisted users)' : ''}${c.source === 'builtin' ? '' : ` [${c.source}]`}`])),
    },
    {
      name: 'services', usage: 'services', description: 'list the services on the mesh', mutating: false,
      exec: async (ctx) => {
        const all = await reg.listServices({ signal: ctx.signal });
        const by = new Map<string, { versions: Set<string>; nodes: number }>();
        for (const s of all) {
          const e = by.get(s.name) ?? { versions: new Set<string>(), nodes: 0 };
          e.versions.add(s.version);
          e.nodes += s.nodes.length;
          by.set(s.name, e);
        }
        if (by.size === 0) return f.text('no services on the mesh');
        return f.table(['SERVICE', 'VERSIONS', 'NODES'], [...by].sort(([a], [b]) => (a < b ? -1 : 1)).map(([n, e]) => [n, [...e.versions].join(','), String(e.nodes)]));
      },
    },
    {
      name: 'service', usage: 'service NAME', description: 'a service: versions, nodes, endpoints with their request and response fields', mutating: false,
      exec: async (ctx) => {
        const name = name1(ctx, 'service NAME');
        const versions = await reg.getService(name, { signal: ctx.signal });
        if (versions.length === 0) return f.text(`no service "${name}" on the mesh`);
        const parts: Reply[] = [];
        for (const v of versions) {
          parts.push(f.text(`${name} ${v.version}: ${v.nodes.length} node(s) ${v.nodes.map((n) => n.address).join(', ')}`));
          const lines: string[] = [];
          for (const e of v.endpoints.filter((x) => !x.name.startsWith('Debug.'))) {
            const kind = streamKind(e.metadata);
            lines.push(`${e.name}${kind === undefined ? '' : ` (${kind} stream)`}`);
            const schemas = await endpointSchemas(svc.client, v, e.name, { signal: ctx.signal, timeoutMs: d.config.callTimeoutMs }).catch(() => ({}));
            for (const [side, s] of Object.entries(schemas) as [string, Record<string, unknown>][]) lines.push(...schemaLines(side, s, '  '));
          }
          parts.push({ blocks: [{ kind: 'code', text: lines.length > 0 ? lines.join('\n') : '(no endpoints)' }] });
        }
        return f.join(...parts);
      },
    },
    {
      name: 'call', usage: 'call SERVICE ENDPOINT [JSON]', description: 'call an endpoint and show the answer', mutating: true,
      exec: async (ctx) => {
        const [[service, endpoint], body] = words(ctx.args, 2);
        if (service === undefined || endpoint === undefined) throw usage('usage: call SERVICE ENDPOINT [JSON]');
        const res = await svc.client.call(service, endpoint, jsonArg(body), { timeoutMs: d.config.callTimeoutMs, signal: ctx.signal });
        return f.json(undefined, res);
      },
    },
    {
      name: 'stream', usage: 'stream SERVICE ENDPOINT [JSON]', description: `open a server stream and show its first ${d.config.streamMessages} messages`, mutating: true,
      exec: async (ctx) => {
        const [[service, endpoint], body] = words(ctx.args, 2);
        if (service === undefined || endpoint === undefined) throw usage('usage: stream SERVICE ENDPOINT [JSON]');
        const stop = new AbortController();
        const onAbort = (): void => stop.abort();
        ctx.signal.addEventListener('abort', onAbort, { once: true });
        const s = await svc.client.stream(service, endpoint, jsonArg(body), { signal: stop.signal, timeoutMs: d.config.streamTimeoutMs });
        const got: unknown[] = [];
        let ended = true;
        try {
          for await (const m of s) {
            got.push(m);
            if (got.length >= d.config.streamMessages) {
              ended = false;
              break;
            }
          }
        } finally {
          ctx.signal.removeEventListener('abort', onAbort);
          s.cancel('the bot shows only the first messages');
        }
        return f.json(ended ? `${got.length} message(s), stream ended` : `first ${got.length} message(s), stream stopped`, got);
      },
    },
    {
      name: 'health', usage: 'health SERVICE', description: 'Debug.Health on every node of a service', mutating: false,
      exec: async (ctx) => {
        const name = name1(ctx, 'health SERVICE');
        const nodes = await callNodes<{ status?: string }>(svc.client, reg, [name], 'Debug.Health', { timeoutMs: d.config.callTimeoutMs, signal: ctx.signal });
        if (nodes.length === 0) return f.text(`no service "${name}" on the mesh`);
        return f.table(['NODE', 'ADDRESS', 'STATUS'], nodes.map((n) => [n.node, n.address, n.error ? `${n.error.code}: ${n.error.detail}` : (n.result?.status ?? 'ok')]));
      },
    },
    {
      name: 'stats', usage: 'stats SERVICE', description: 'calls served, errors by code, recent p50/p99, uptime and memory per node', mutating: false,
      exec: async (ctx) => {
        const name = name1(ctx, 'stats SERVICE');
        const nodes = await callNodes<DebugStats>(svc.client, reg, [name], 'Debug.Stats', { timeoutMs: d.config.callTimeoutMs, signal: ctx.signal });
        if (nodes.length === 0) return f.text(`no service "${name}" on the mesh`);
        return f.table(['NODE', 'SERVED', 'ERRORS', 'P50', 'P99', 'UPTIME', 'RSS'], nodes.map((n) => {
          const s = n.result;
          if (s === undefined) return [n.node, '-', n.error ? `${n.error.code}` : '?', '-', '-', '-', '-'];
          const errors = Object.entries(s.errors ?? {}).map(([c, k]) => `${c}:${k}`).join(',') || '0';
          const p = (ms: number | undefined): string => (s.latencyMs?.count ? `${(ms ?? 0).toFixed(ms !== undefined && ms < 10 ? 2 : 0)}ms` : '-');
          return [n.node, String(s.served ?? 0), errors, p(s.latencyMs?.p50), p(s.latencyMs?.p99), `${Math.round(s.uptimeMs / 1000)}s`, `${Math.round(s.rssBytes / 1048576)}MB`];
        }));
      },
    },
    {
      name: 'members', usage: 'members', description: 'the mesh members: state, incarnation, address', mutating: false,
      exec: async () => {
        const swim = svc.mesh?.swim;
        if (swim === undefined) return f.text('this bot is not on a mesh (no SWIM view)');
        const rank: Record<string, number> = { suspect: 0, dead: 1, alive: 2, left: 3 };
        const ms = swim.members().sort((a, b) => rank[a.state]! - rank[b.state]! || (a.id < b.id ? -1 : 1));
        return f.table(['MEMBER', 'STATE', 'INCARNATION', 'ADDRESS'], ms.map((m) => [m.id, m.state, String(m.incarnation), m.address]));
      },
    },
    {
      name: 'publish', usage: 'publish TOPIC [JSON]', description: 'publish a message (JSON) to a topic', mutating: true,
      exec: async (ctx) => {
        const [[topic], body] = words(ctx.args, 1);
        if (topic === undefined) throw usage('usage: publish TOPIC [JSON]');
        await svc.client.publish(topic, jsonArg(body, 'the message'), { contentType: 'application/json', signal: ctx.signal });
        return f.text(`published to ${topic}`);
      },
    },
    { name: 'ping', usage: 'ping', description: 'pong', mutating: false, exec: async () => f.text('pong') },
    { name: 'time', usage: 'time', description: 'the time where the bot runs', mutating: false, exec: async () => f.text(new Date(d.clock.wallTime()).toISOString()) },
    { name: 'echo', usage: 'echo TEXT', description: 'say it back', mutating: false, exec: async (ctx) => f.text(ctx.args === '' ? '(nothing to echo)' : ctx.args) },
  ];
  return specs.map((s) => ({ ...s, source: 'builtin' }));
}

/** Errors as one chat line: the stable code first, never a stack. */
export function errorLine(err: unknown): string {
  const e = toMeshError(err, 'micromesh.bot');
  return e.code === 'INTERNAL' ? 'error INTERNAL: the command failed (see the bot\'s log)' : `error ${e.code}: ${e.detail}`;
}

