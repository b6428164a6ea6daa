import { useEffect, useState } from 'preact/hooks';
import type { MemberRow } from '../model.ts';
import { ago, clockTime } from './format.ts';
import { useProgressive, useRenderedMark } from './progressive.ts';
import { useLive, type LiveStore } from './store.ts';
import { StateBadge } from './widgets.tsx';

const RANK: Record<string, number> = { suspect: 0, dead: 1, alive: 2, left: 3 };

/** Re-renders every second, so "12 s ago" moves on between live changes. */
function useNow(): number {
  const [now, set] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => set(Date.now()), 1000);
    return () => clearInterval(t);
  }, []);
  return now;
}

/** The SWIM view of the node the dashboard runs on, live: members, their state and an event log. */
export function MeshPage({ store }: { store: LiveStore }) {
  useLive(store);
  const now = useNow();
  const [q, setQ] = useState('');
  const members = [...store.members.values()];
  const counts = { alive: 0, suspect: 0, dead: 0, left: 0 } as Record<string, number>;
  for (const m of members) counts[m.state] = (counts[m.state] ?? 0) + 1;
  const needle = q.trim().toLowerCase();
  const matching = members
    .filter((m) => needle === '' || m.id.toLowerCase().includes(needle) || m.address.includes(needle) || m.services.some((s) => s.toLowerCase().includes(needle)))
    .sort((a, b) => (RANK[a.state]! - RANK[b.state]!) || (a.id < b.id ? -1 : 1));
  const shown = useProgressive(matching);
  useRenderedMark('mesh', store.connected, shown.length === matching.length);
  const events = store.events.slice(-200).reverse();
  return (
    <section>
      <div class="toolbar">
        <h1 style="margin:0">Mesh</h1>
        <span class={`badge ${store.connected ? '' : 'ro'}`} id="live-status">{store.connected ? 'live' : 'reconnecting…'}</span>
      </div>
      <div class="summary">
        {(['alive', 'suspect', 'dead', 'left'] as const).map((s) => (
          <div key={s} class="panel" data-count={s}><div class="big">{counts[s]}</div><StateBadge state={s} /></div>
        ))}
      </div>
      <div class="row">
        <div class="grow panel" style="flex-basis:640px">
          <div class="toolbar">
            <input type="search" placeholder="Filter by id, address or service" aria-label="filter members" value={q} onInput={(e) => setQ((e.target as HTMLInputElement).value)} />
            <span class="count">{matching.length} of {members.length} members</span>
          </div>
          <table id="members">
            <thead><tr><th>Member</th><th>State</th><th class="num">Incarnation</th><th>Address</th><th>Services</th><th>Since</th></tr></thead>
            <tbody>{shown.map((m) => <Member key={m.id} m={m} now={now} />)}</tbody>
          </table>
          {members.length === 0 && <div class="empty">{store.connected ? 'This node is not on a mesh (no SWIM view).' : 'Connecting…'}</div>}
        </div>
        <div class="panel" style="flex:1 1 320px;min-width:280px">
          <h2 style="margin-top:0">Events</h2>
          <div class="log" id="events">
            {events.length === 0 && <div class="muted">No changes since the dashboard started.</div>}
            {events.map((e) => (
              <div key={e.seq} data-type={e.type} data-member={e.member}>
                <time>{clockTime(e.at)}</time><StateBadge state={e.type} /><span class="mono">{e.member}</span><span class="muted">#{e.incarnation}</span>
              </div>
            ))}
          </div>
        </div>
      </div>
    </section>
  );
}

function Member({ m, now }: { m: MemberRow; now: number }) {
  return (
    <tr data-member={m.id} data-state={m.state}>
      <td class="mono">{m.id}{m.local && <span class="pill" title="the node this dashboard runs on"> this node</span>}</td>
      <td><StateBadge state={m.state} /></td>
      <td class="num mono">{m.incarnation}</td>
      <td class="mono">{m.address}</td>
      <td>{m.services.map((s) => <a key={s} class="pill" href={`#/service/${encodeURIComponent(s)}`}>{s}</a>)}</td>
      <td class="muted nowrap" title={new Date(m.changedAt).toISOString()}>{ago(m.changedAt, now)}</td>
    </tr>
  );
}
