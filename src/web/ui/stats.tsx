import { useEffect, useRef, useState } from 'preact/hooks';
import type { DebugStats } from '../../index.ts';
import { ApiError, getJson, type NodeCall, type WireError } from './api.ts';
import { bytes, duration, ms } from './format.ts';
import { ErrorBox } from './widgets.tsx';

interface Poll { at: number; nodes: NodeCall<DebugStats>[] }

/**
 * Per service and node, from `Debug.Stats` polled every 2 s: calls per
 * second (served since the previous poll), errors by code, recent latency
 * percentiles, uptime and memory.
 */
export function StatsPage() {
  const [poll, setPoll] = useState<Poll | undefined>();
  const prev = useRef<Poll | undefined>(undefined);
  const [error, setError] = useState<WireError | undefined>();
  const [q, setQ] = useState('');
  useEffect(() => {
    const stop = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = async (): Promise<void> => {
      try {
        const next = await getJson<Poll>('api/stats', stop.signal);
        setPoll((cur) => {
          prev.current = cur;
          return next;
        });
        setError(undefined);
      } catch (err) {
        if (!stop.signal.aborted) setError(err instanceof ApiError ? err.error : { code: 'UNAVAILABLE', detail: String(err), status: 503 });
      }
      if (!stop.signal.aborted) timer = setTimeout(() => void load(), 2000);
    };
    void load();
    return () => { stop.abort(); clearTimeout(timer); };
  }, []);
  const before = new Map((prev.current?.nodes ?? []).map((n) => [`${n.service}/${n.node}`, n]));
  const dt = poll && prev.current ? (poll.at - prev.current.at) / 1000 : 0;
  const needle = q.trim().toLowerCase();
  const rows = (poll?.nodes ?? []).filter((n) => needle === '' || n.service.toLowerCase().includes(needle));
  return (
    <section>
      <div class="toolbar">
        <h1 style="margin:0">Node stats</h1>
        <input type="search" placeholder="Filter services" aria-label="filter services" value={q} onInput={(e) => setQ((e.target as HTMLInputElement).value)} />
        <span class="count">{poll ? `${rows.length} nodes · every 2 s` : 'loading…'}</span>
      </div>
      {error && <ErrorBox error={error} />}
      <div class="panel">
        <table id="stats">
          <thead><tr><th>Service</th><th>Node</th><th class="num">Calls/s</th><th class="num">Served</th><th>Errors</th><th class="num">p50</th><th class="num">p99</th><th class="num">Uptime</th><th class="num">Memory</th></tr></thead>
          <tbody>
            {rows.map((n) => {
              const s = n.result;
              const b = before.get(`${n.service}/${n.node}`)?.result;
              const rate = s && b && dt > 0 ? Math.max(0, (s.served - b.served) / dt) : undefined;
              return (
                <tr key={`${n.service}/${n.node}`} data-service={n.service} data-node={n.node}>
                  <td><a href={`#/service/${encodeURIComponent(n.service)}`}>{n.service}</a> <span class="pill">{n.version}</span></td>
                  <td class="mono" title={n.address}>{n.node}</td>
                  {s === undefined
                    ? <td colSpan={7}><span class="state dead" title={n.error?.detail}>{n.error?.code ?? 'no answer'}</span> <span class="muted">{n.error?.detail}</span></td>
                    : <>
                      <td class="num">{rate === undefined ? '–' : rate.toFixed(rate < 10 ? 1 : 0)}</td>
                      <td class="num">{s.served ?? '–'}</td>
                      <td>{Object.entries(s.errors ?? {}).map(([code, c]) => <span key={code} class="pill mono">{code} {c}</span>)}</td>
                      <td class="num">{ms(s.latencyMs?.count ? s.latencyMs.p50 : undefined)}</td>
                      <td class="num">{ms(s.latencyMs?.count ? s.latencyMs.p99 : undefined)}</td>
                      <td class="num">{duration(s.uptimeMs)}</td>
                      <td class="num">{bytes(s.rssBytes)}</td>
                    </>}
                </tr>
              );
            })}
          </tbody>
        </table>
        {poll && rows.length === 0 && <div class="empty">No nodes.</div>}
      </div>
    </section>
  );
}
