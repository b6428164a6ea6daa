import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, postJson, readSse, type EndpointView, type JsonSchema, type WireError } from './api.ts';
import { ms, pretty } from './format.ts';
import { buildRequest, formFields, type Field } from './schema.ts';
import { ErrorBox } from './widgets.tsx';

type Outcome =
  | { kind: 'ok'; body: unknown; ms: number }
  | { kind: 'error'; error: WireError; ms: number }
  | { kind: 'stream'; messages: unknown[]; state: 'open' | 'ended' | 'stopped'; error?: WireError; ms: number };

const asWire = (err: unknown): WireError => (err instanceof ApiError ? err.error : { code: 'BAD_REQUEST', detail: (err as Error).message ?? String(err), status: 400 });

/**
 * micro web's call form, generated from the request schema (a JSON editor
 * when there is none, or on demand): unary calls go through `/rpc`, server
 * streams through `/api/stream` and render message by message until Stop.
 */
export function CallForm({ service, endpoint, schema }: { service: string; endpoint: EndpointView; schema: JsonSchema | undefined }) {
  const fields = formFields(schema);
  const [json, setJson] = useState(fields === undefined);
  const [values, setValues] = useState<Record<string, string | boolean | undefined>>({});
  const [text, setText] = useState('{}');
  const [out, setOut] = useState<Outcome | undefined>();
  const [busy, setBusy] = useState(false);
  const stream = useRef<AbortController | undefined>(undefined);
  useEffect(() => () => stream.current?.abort(), []);

  if (endpoint.stream === 'client' || endpoint.stream === 'bidi') {
    return <p class="muted">A {endpoint.stream} stream takes a stream of requests: open it over WebSocket through <code>micromesh api</code> (docs/api.md).</p>;
  }

  const request = (): unknown => (json || fields === undefined ? JSON.parse(text.trim() === '' ? '{}' : text) : buildRequest(fields, values));
  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    let req: unknown;
    try {
      req = request();
    } catch (err) {
      setOut({ kind: 'error', error: asWire(err), ms: 0 });
      return;
    }
    const started = performance.now();
    if (endpoint.stream === 'server') {
      const ctl = new AbortController();
      stream.current = ctl;
      const messages: unknown[] = [];
      setOut({ kind: 'stream', messages, state: 'open', ms: 0 });
      const q = new URLSearchParams({ service, endpoint: endpoint.name, request: JSON.stringify(req) });
      let error: WireError | undefined;
      try {
        await readSse(`api/stream?${q}`, (ev) => {
          if (ev.event === 'message') messages.push(JSON.parse(ev.data));
          else if (ev.event === 'error') error = JSON.parse(ev.data) as WireError;
          setOut({ kind: 'stream', messages: [...messages], state: 'open', ms: performance.now() - started });
        }, ctl.signal);
      } catch (err) {
        error = asWire(err);
      }
      setOut({ kind: 'stream', messages: [...messages], state: ctl.signal.aborted ? 'stopped' : 'ended', error, ms: performance.now() - started });
      stream.current = undefined;
      return;
    }
    setBusy(true);
    try {
      const body = await postJson('rpc', { service, endpoint: endpoint.name, request: req });
      setOut({ kind: 'ok', body, ms: performance.now() - started });
    } catch (err) {
      setOut({ kind: 'error', error: asWire(err), ms: performance.now() - started });
    } finally {
      setBusy(false);
    }
  };
  const toJson = (): void => {
    if (fields !== undefined && !json) {
      try {
        setText(pretty(buildRequest(fields, values)));
      } catch {
        // Keep the editor's text: the field in error shows when sent.
      }
    }
    setJson(!json);
  };
  const open = out?.kind === 'stream' && out.state === 'open';
  return (
    <form class="call" onSubmit={submit}>
      <h3>Call</h3>
      {json || fields === undefined
        ? <textarea name="request" aria-label="request JSON" spellcheck={false} value={text} onInput={(e) => setText((e.target as HTMLTextAreaElement).value)} />
        : <div class="fields">{fields.map((f) => <Input key={f.path} field={f} value={values[f.path]} set={(v) => setValues({ ...values, [f.path]: v })} />)}</div>}
      <div class="toolbar" style="margin:8px 0 0">
        <button class="primary" type="submit" disabled={busy || open}>{endpoint.stream === 'server' ? 'Open stream' : 'Call'}</button>
        {open && <button type="button" class="stop" onClick={() => stream.current?.abort()}>Stop</button>}
        {fields !== undefined && <button type="button" onClick={toJson}>{json ? 'Form' : 'JSON'}</button>}
      </div>
      {out && <Result out={out} />}
    </form>
  );
}

function Input({ field: f, value, set }: { field: Field; value: string | boolean | undefined; set: (v: string | boolean) => void }) {
  const label = <label for={`f-${f.path}`} title={f.description} style={`padding-left:${f.depth * 12}px`}>{f.path}{f.required && <span class="req"> *</span>}</label>;
  const common = { id: `f-${f.path}`, name: f.path, 'data-field': f.path };
  let input;
  if (f.kind === 'boolean') input = <input type="checkbox" {...common} checked={value === true} onChange={(e) => set((e.target as HTMLInputElement).checked)} />;
  else if (f.kind === 'enum') {
    input = (
      <select {...common} value={typeof value === 'string' ? value : ''} onChange={(e) => set((e.target as HTMLSelectElement).value)}>
        <option value="">{f.required ? 'choose…' : '(none)'}</option>
        {f.options?.map((o) => <option key={JSON.stringify(o)} value={JSON.stringify(o)}>{String(o)}</option>)}
      </select>
    );
  } else if (f.kind === 'json') input = <input {...common} class="mono" placeholder="JSON" value={typeof value === 'string' ? value : ''} onInput={(e) => set((e.target as HTMLInputElement).value)} />;
  else input = <input {...common} type={f.kind === 'string' ? 'text' : 'text'} inputMode={f.kind === 'string' ? undefined : 'decimal'} placeholder={f.kind} value={typeof value === 'string' ? value : ''} onInput={(e) => set((e.target as HTMLInputElement).value)} />;
  return <>{label}{input}</>;
}

function Result({ out }: { out: Outcome }) {
  if (out.kind === 'ok') {
    return <div class="result" data-outcome="ok"><div class="meta"><span class="state alive">OK</span><span class="latency">{ms(out.ms)}</span></div><pre class="response">{pretty(out.body)}</pre></div>;
  }
  if (out.kind === 'error') {
    return <div class="result" data-outcome="error"><div class="meta"><span class="latency">{ms(out.ms)}</span></div><ErrorBox error={out.error} /></div>;
  }
  return (
    <div class="result" data-outcome="stream" data-state={out.state}>
      <div class="meta"><span class={`state ${out.state === 'open' ? 'alive' : 'left'}`}>{out.state}</span><span class="count">{out.messages.length} messages</span><span class="latency">{ms(out.ms)}</span></div>
      <div class="messages">{out.messages.map((m, i) => <div key={i} class="message"><pre>{pretty(m)}</pre></div>)}</div>
      {out.error && <ErrorBox error={out.error} />}
    </div>
  );
}
