import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, getJson, postJson, readSse, type TopicView, type WireError } from './api.ts';
import { clockTime, pretty } from './format.ts';
import { useLive, type LiveStore } from './store.ts';
import { ErrorBox } from './widgets.tsx';

interface Tailed { id: string; topic: string; at: number; contentType: string; bytes: number; body?: unknown; hex?: string; note?: string }

const wire = (err: unknown): WireError => (err instanceof ApiError ? err.error : { code: 'BAD_REQUEST', detail: (err as Error).message, status: 400 });

/** Topics and who subscribes (from the members' records), a publish form and a live tail of a pattern. */
export function PubsubPage({ store, readOnly }: { store: LiveStore; readOnly: boolean }) {
  useLive(store);
  const [topics, setTopics] = useState<TopicView[] | undefined>();
  const [error, setError] = useState<WireError | undefined>();
  const bump = `${store.servicesVersion}:${store.members.size}`;
  useEffect(() => {
    const stop = new AbortController();
    const load = (): void => void getJson<{ topics: TopicView[] }>('api/topics', stop.signal).then((t) => { setTopics(t.topics); setError(undefined); }, (e: unknown) => !stop.signal.aborted && setError(wire(e)));
    load();
    // Subscriptions change without a registry change: look again now and then.
    const t = setInterval(load, 3000);
    return () => { stop.abort(); clearInterval(t); };
  }, [bump]);
  return (
    <section>
      <h1>Pubsub</h1>
      <div class="row">
        <div class="grow panel">
          <h2 style="margin-top:0">Topics</h2>
          {error && <ErrorBox error={error} />}
          <table id="topics">
            <thead><tr><th>Topic</th><th>Subscribers</th><th>Queue groups</th></tr></thead>
            <tbody>
              {(topics ?? []).map((t) => {
                const queues = [...new Set(t.subscribers.filter((s) => s.queue !== undefined).map((s) => s.queue!))];
                return (
                  <tr key={`${t.pattern}:${t.match ?? ''}`} data-topic={t.pattern}>
                    <td class="mono">{t.pattern}{t.match === 'all' ? <span class="muted"> (all topics, coarse record)</span> : t.match === 'first-token' ? <span class="muted"> (gossip: first token)</span> : null}</td>
                    <td>{t.subscribers.map((s, i) => <span key={i} class="pill mono" title={s.services?.join(', ')}>{s.services?.[0] ?? s.node}{s.queue ? ` · ${s.queue}` : ''}</span>)}</td>
                    <td>{queues.map((q) => <span key={q} class="pill">{q}</span>)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          {topics?.length === 0 && <div class="empty">No subscriptions on the mesh.</div>}
        </div>
        {!readOnly && <PublishForm />}
      </div>
      <Tail />
    </section>
  );
}

function PublishForm() {
  const [topic, setTopic] = useState('');
  const [text, setText] = useState('{}');
  const [result, setResult] = useState<{ ok: true } | { error: WireError } | undefined>();
  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    try {
      await postJson('api/publish', { topic, message: JSON.parse(text) });
      setResult({ ok: true });
    } catch (err) {
      setResult({ error: wire(err) });
    }
  };
  return (
    <form class="panel grow" id="publish" onSubmit={submit}>
      <h2 style="margin-top:0">Publish</h2>
      <div class="toolbar"><input name="topic" placeholder="topic, e.g. orders.created" aria-label="topic" value={topic} onInput={(e) => setTopic((e.target as HTMLInputElement).value)} style="flex:1" /></div>
      <textarea name="message" aria-label="message JSON" spellcheck={false} value={text} onInput={(e) => setText((e.target as HTMLTextAreaElement).value)} />
      <div class="toolbar" style="margin:8px 0 0"><button class="primary" type="submit">Publish</button>
        {result && 'ok' in result && <span class="state alive" id="published">published</span>}</div>
      {result && 'error' in result && <ErrorBox error={result.error} />}
    </form>
  );
}

function Tail() {
  const [pattern, setPattern] = useState('>');
  const [messages, setMessages] = useState<Tailed[]>([]);
  const [state, setState] = useState<'idle' | 'open'>('idle');
  const [error, setError] = useState<WireError | undefined>();
  const [dropped, setDropped] = useState(0);
  const ctl = useRef<AbortController | undefined>(undefined);
  useEffect(() => () => ctl.current?.abort(), []);
  const start = async (e: Event): Promise<void> => {
    e.preventDefault();
    ctl.current?.abort();
    const c = new AbortController();
    ctl.current = c;
    setMessages([]);
    setError(undefined);
    setDropped(0);
    setState('open');
    try {
      await readSse(`api/tail?topic=${encodeURIComponent(pattern)}`, (ev) => {
        if (ev.event === 'message') setMessages((ms) => [JSON.parse(ev.data) as Tailed, ...ms].slice(0, 200));
        else if (ev.event === 'dropped') setDropped((d) => d + (JSON.parse(ev.data) as { dropped: number }).dropped);
      }, c.signal);
    } catch (err) {
      setError(wire(err));
    }
    if (ctl.current === c) setState('idle');
  };
  return (
    <form class="panel" id="tail" onSubmit={start}>
      <h2 style="margin-top:0">Live tail</h2>
      <div class="toolbar">
        <input name="pattern" aria-label="topic pattern" placeholder="topic or pattern: orders.*, orders.>" value={pattern} onInput={(e) => setPattern((e.target as HTMLInputElement).value)} style="width:320px" />
        {state === 'idle' ? <button class="primary" type="submit">Start</button> : <button type="button" onClick={() => { ctl.current?.abort(); setState('idle'); }}>Stop</button>}
        <span class="count" data-state={state}>{state === 'open' ? `tailing · ${messages.length} messages` : 'stopped'}{dropped > 0 ? ` · ${dropped} dropped (too fast)` : ''}</span>
      </div>
      {error && <ErrorBox error={error} />}
      <div class="messages">
        {messages.map((m) => (
          <div key={m.id} class="message" data-topic={m.topic}>
            <span class="muted">{clockTime(m.at)}</span> <span class="pill mono">{m.topic}</span> <span class="muted">{m.contentType} · {m.bytes} B</span>
            <pre>{m.body !== undefined ? pretty(m.body) : m.note ?? `hex ${m.hex}`}</pre>
          </div>
        ))}
      </div>
    </form>
  );
}
