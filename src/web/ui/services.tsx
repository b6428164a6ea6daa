import { useEffect, useState } from 'preact/hooks';
import { ApiError, getJson, prefetched, type EndpointView, type JsonSchema, type NodeCall, type ServiceDetail, type ServiceSummary, type WireError } from './api.ts';
import { CallForm } from './call.tsx';
import { useProgressive, useRenderedMark } from './progressive.ts';
import { describe } from './schema.ts';
import { useLive, type LiveStore } from './store.ts';
import { ErrorBox } from './widgets.tsx';

/** Fetches `path` now and again whenever the registry changed (debounced), keeping the last answer on screen. */
function useRegistryData<T>(path: string, store: LiveStore): { data: T | undefined; error: WireError | undefined } {
  useLive(store);
  const [state, set] = useState<{ data: T | undefined; error: WireError | undefined }>({ data: undefined, error: undefined });
  const bump = store.servicesVersion;
  useEffect(() => {
    const stop = new AbortController();
    const t = setTimeout(() => {
      (bump === 0 ? prefetched<T>(path) ?? getJson<T>(path, stop.signal) : getJson<T>(path, stop.signal)).then((data) => set({ data, error: undefined }), (err: unknown) => {
        if (!stop.signal.aborted) set((s) => ({ data: s.data, error: err instanceof ApiError ? err.error : { code: 'UNAVAILABLE', detail: String(err), status: 503 } }));
      });
    }, bump === 0 ? 0 : 250);
    return () => {
      clearTimeout(t);
      stop.abort();
    };
  }, [path, bump]);
  return state;
}

export function ServicesPage({ store }: { store: LiveStore }) {
  const { data, error } = useRegistryData<{ services: ServiceSummary[] }>('api/services', store);
  const [q, setQ] = useState(() => sessionStorage.getItem('micromesh.q') ?? '');
  const needle = q.trim().toLowerCase();
  const matching = (data?.services ?? []).filter((s) => needle === '' || s.name.toLowerCase().includes(needle));
  const shown = useProgressive(matching);
  useRenderedMark('services', data !== undefined, shown.length === matching.length);
  return (
    <section>
      <div class="toolbar">
        <h1 style="margin:0">Services</h1>
        <input type="search" placeholder="Search services" aria-label="search services" value={q}
          onInput={(e) => { const v = (e.target as HTMLInputElement).value; setQ(v); sessionStorage.setItem('micromesh.q', v); }} />
        <span class="count">{data ? `${matching.length} of ${data.services.length}` : 'loading…'}</span>
      </div>
      {error && <ErrorBox error={error} />}
      <div class="panel">
        <table id="services">
          <thead><tr><th>Service</th><th>Versions</th><th class="num">Nodes</th><th class="num">Endpoints</th></tr></thead>
          <tbody>
            {shown.map((s) => (
              <tr key={s.name} data-service={s.name}>
                <td><a href={`#/service/${encodeURIComponent(s.name)}`}>{s.name}</a></td>
                <td class="mono">{s.versions.join(', ')}</td>
                <td class="num">{s.nodes}</td>
                <td class="num">{s.endpoints}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {data && matching.length === 0 && <div class="empty">{data.services.length === 0 ? 'No services found on the mesh yet.' : 'No service matches.'}</div>}
      </div>
    </section>
  );
}

export function ServicePage({ name, store, readOnly }: { name: string; store: LiveStore; readOnly: boolean }) {
  const { data, error } = useRegistryData<ServiceDetail>(`api/services/${encodeURIComponent(name)}`, store);
  const [health, setHealth] = useState<Record<string, NodeCall<{ status?: string }>>>({});
  useEffect(() => {
    const stop = new AbortController();
    getJson<{ nodes: NodeCall<{ status?: string }>[] }>(`api/health?service=${encodeURIComponent(name)}`, stop.signal)
      .then((h) => setHealth(Object.fromEntries(h.nodes.map((n) => [n.node, n]))), () => {});
    return () => stop.abort();
  }, [name, data?.versions.map((v) => v.nodes.length).join()]);
  return (
    <section>
      <div class="toolbar">
        <a href="#/services">Services</a><span class="muted">/</span><h1 style="margin:0" id="service-name">{name}</h1>
      </div>
      {error && <ErrorBox error={error} />}
      {data?.versions.map((v) => (
        <div key={v.version} class="panel" data-version={v.version}>
          <h2 style="margin-top:0">Version <span class="pill">{v.version}</span></h2>
          {Object.keys(v.metadata).length > 0 && <dl class="kv">{Object.entries(v.metadata).map(([k, val]) => [<dt key={`k${k}`}>{k}</dt>, <dd key={`v${k}`}>{val}</dd>])}</dl>}
          <h3>Nodes</h3>
          <table class="nodes">
            <thead><tr><th>Id</th><th>Address</th><th>Health</th><th>Metadata</th></tr></thead>
            <tbody>
              {v.nodes.map((n) => {
                const h = health[n.id];
                return (
                  <tr key={n.id} data-node={n.id}>
                    <td class="mono">{n.id}</td>
                    <td class="mono">{n.address}</td>
                    <td>{h === undefined ? <span class="muted">…</span> : h.error ? <span class="state dead" title={h.error.detail}>{h.error.code}</span> : <span class="state alive">{h.result?.status ?? 'ok'}</span>}</td>
                    <td>{Object.entries(n.metadata).map(([k, val]) => <span key={k} class="pill mono">{k}={val}</span>)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          <h3>Endpoints</h3>
          {v.endpoints.length === 0 && <div class="muted">No endpoints.</div>}
          {v.endpoints.map((e) => <Endpoint key={e.name} service={name} endpoint={e} readOnly={readOnly} />)}
        </div>
      ))}
    </section>
  );
}

/** Inline schemas, or the ones fetched for an endpoint whose schemas were too large for the registry. */
function useSchemas(service: string, e: EndpointView): { request?: JsonSchema; response?: JsonSchema } {
  const [fetched, set] = useState<{ request?: JsonSchema; response?: JsonSchema } | undefined>();
  useEffect(() => {
    if (e.schemaRef === undefined) return;
    const stop = new AbortController();
    getJson<{ request?: JsonSchema; response?: JsonSchema }>(`api/schema?service=${encodeURIComponent(service)}&endpoint=${encodeURIComponent(e.name)}`, stop.signal).then(set, () => {});
    return () => stop.abort();
  }, [service, e.name, e.schemaRef]);
  return fetched ?? { request: e.request, response: e.response };
}

function Endpoint({ service, endpoint: e, readOnly }: { service: string; endpoint: EndpointView; readOnly: boolean }) {
  const schemas = useSchemas(service, e);
  const extra = Object.entries(e.metadata);
  const debug = e.name.startsWith('Debug.');
  return (
    <details class="endpoint" data-endpoint={e.name} open={!debug}>
      <summary class="head"><span class="name">{e.name}</span>{e.stream !== 'unary' && <span class="pill">{e.stream} stream</span>}
        {extra.map(([k, v]) => <span key={k} class="pill mono muted">{k}={v.length > 60 ? `${v.slice(0, 60)}…` : v}</span>)}</summary>
      <div class="body">
        <div class="row">
          <div class="grow"><h3 style="margin-top:0">Request</h3><pre class="schema request-schema">{schemas.request ? describe(schemas.request) : 'not declared'}</pre></div>
          <div class="grow"><h3 style="margin-top:0">Response</h3><pre class="schema response-schema">{schemas.response ? describe(schemas.response) : 'not declared'}</pre></div>
        </div>
        {!readOnly && !debug && <CallForm service={service} endpoint={e} schema={schemas.request} />}
        {debug && <p class="muted">Built in: the Stats page and <code>health</code> in the terminal call it on every node.</p>}
      </div>
    </details>
  );
}
