import type { Command } from 'commander';
import type { DebugStats, NodeAnswer } from '../../../src/index.ts';
import type { Cli } from '../context.ts';
import { parseDuration } from '../options.ts';

/** What one refresh read: the members (SWIM view) and every node's Debug.Stats. */
interface Frame {
  at: number;
  members: { id: string; address: string; state: string; incarnation: number }[];
  nodes: NodeAnswer<DebugStats>[];
}

const RANK: Record<string, number> = { suspect: 0, dead: 1, alive: 2, left: 3 };

/** The screen for a frame; calls/s from the previous frame's counters. */
export function render(f: Frame, prev: Frame | undefined, width: number): string {
  const before = new Map((prev?.nodes ?? []).map((n) => [`${n.service}/${n.node}`, n.result?.served]));
  const secs = prev === undefined ? 0 : (f.at - prev.at) / 1000;
  const counts: Record<string, number> = {};
  for (const m of f.members) counts[m.state] = (counts[m.state] ?? 0) + 1;
  const out: string[] = [];
  const states = Object.entries(counts).map(([s, n]) => `${n} ${s}`).join(', ');
  out.push(`micromesh top  ${new Date(f.at).toISOString().slice(11, 19)}  ${f.members.length} member${f.members.length === 1 ? '' : 's'} (${states || 'none'})  q quits`, '');
  const table = (rows: string[][]): void => {
    const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
    for (const r of rows) out.push(r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(w[i]!))).join('  ').slice(0, width));
  };
  if (f.members.length > 0) {
    table([['MEMBER', 'STATE', 'INCARNATION', 'ADDRESS'], ...[...f.members].sort((a, b) => RANK[a.state]! - RANK[b.state]! || (a.id < b.id ? -1 : 1))
      .map((m) => [m.id, m.state, String(m.incarnation), m.address])]);
    out.push('');
  }
  table([['SERVICE', 'NODE', 'CALLS/S', 'SERVED', 'ERRORS', 'P50', 'P99', 'RSS'], ...f.nodes.map((n) => {
    const s = n.result;
    if (s === undefined) return [n.service, n.node, '-', '-', n.error?.code ?? 'no answer', '-', '-', '-'];
    const was = before.get(`${n.service}/${n.node}`);
    const rate = was === undefined || secs <= 0 ? '-' : Math.max(0, (s.served - was) / secs).toFixed(1);
    const p = (v: number): string => (s.latencyMs.count > 0 ? `${v < 10 ? v.toFixed(2) : v.toFixed(0)}ms` : '-');
    const errors = Object.entries(s.errors).map(([c, k]) => `${c}:${k}`).join(',') || '0';
    return [n.service, n.node, rate, String(s.served), errors, p(s.latencyMs.p50), p(s.latencyMs.p99), `${Math.round(s.rssBytes / 1048576)}MB`];
  })]);
  return out.join('\n');
}

/** `micromesh top`: the mesh live in the terminal (members and their SWIM state, services, calls/s, errors, latency), redrawn in place. */
export function register(program: Command, cli: Cli): void {
  program.command('top').description('a live view of the mesh: members, services, calls/s, errors, latency; q quits')
    .option('--interval <duration>', 'time between refreshes', parseDuration, 2000)
    .action(async (o: { interval: number }) => {
      const { callNodes } = await import('../../../src/mesh/nodes.ts');
      let quit = false;
      let wake: (() => void) | undefined;
      const stop = (): void => {
        quit = true;
        wake?.();
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      if (process.stdin.isTTY) {
        process.stdin.setRawMode(true);
        process.stdin.on('data', (d: Buffer) => {
          if (d.includes(0x71) || d.includes(0x03)) stop(); // q or Ctrl-C
        });
      }
      let prev: Frame | undefined;
      try {
        while (!quit) {
          // A fresh read-only look each time: top never joins the mesh, so it shows in no member list.
          const frame = await cli.withMesh(async ({ view, service }) => {
            const names = [...new Set((await view.registry.listServices()).map((s) => s.name))].sort();
            return { at: Date.now(), members: view.members.map((m) => ({ id: m.id, address: m.address, state: m.state, incarnation: m.incarnation })), nodes: await callNodes<DebugStats>(service.client, view.registry, names, 'Debug.Stats', { timeoutMs: 1000 }) };
          }).catch((err: unknown) => ({ at: Date.now(), members: [], nodes: [], error: String((err as Error).message ?? err) }));
          const screen = 'error' in frame ? `micromesh top: ${frame.error}` : render(frame, prev, process.stdout.columns ?? 160);
          if (!('error' in frame)) prev = frame;
          // Home and clear, then the frame: redrawn in place.
          process.stdout.write(`\x1b[H\x1b[2J${screen}\n`);
          if (quit) break;
          await new Promise<void>((resolve) => {
            wake = resolve;
            setTimeout(resolve, o.interval);
          });
        }
      } finally {
        if (process.stdin.isTTY) process.stdin.setRawMode(false);
        process.stdin.pause();
      }
    });
}
