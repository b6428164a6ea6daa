import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { getJson, prefetch, type Info } from './api.ts';
import { MeshPage } from './mesh.tsx';
import { PubsubPage } from './pubsub.tsx';
import { ServicePage, ServicesPage } from './services.tsx';
import { StatsPage } from './stats.tsx';
import { LiveStore } from './store.ts';
import { TerminalPage } from './terminal.tsx';
import './style.css';

/** Pages by hash route (`#/service/greeter`), so any static host and the proxy's paths never clash. */
function useRoute(): string[] {
  const parse = (): string[] => (location.hash.replace(/^#\/?/, '') || 'services').split('/').map(decodeURIComponent);
  const [route, set] = useState(parse);
  useEffect(() => {
    const on = (): void => set(parse());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}

type Theme = 'light' | 'dark' | undefined;

function useTheme(): [Theme, () => void] {
  const [theme, setTheme] = useState<Theme>(() => (localStorage.getItem('micromesh.theme') as Theme) ?? undefined);
  useEffect(() => {
    if (theme === undefined) document.documentElement.removeAttribute('data-theme');
    else document.documentElement.setAttribute('data-theme', theme);
  }, [theme]);
  const toggle = (): void => {
    const dark = theme === 'dark' || (theme === undefined && matchMedia('(prefers-color-scheme: dark)').matches);
    const next = dark ? 'light' : 'dark';
    localStorage.setItem('micromesh.theme', next);
    setTheme(next);
  };
  return [theme, toggle];
}

const TABS: [string, string][] = [['services', 'Services'], ['mesh', 'Mesh'], ['pubsub', 'Pubsub'], ['stats', 'Stats'], ['terminal', 'Terminal']];

function App({ store }: { store: LiveStore }) {
  const route = useRoute();
  const [, toggleTheme] = useTheme();
  const [info, setInfo] = useState<Info | undefined>();
  useEffect(() => {
    void getJson<Info>('api/info').then(setInfo, () => {});
  }, []);
  const page = route[0] === 'service' ? 'services' : route[0];
  const readOnly = info?.readOnly ?? true;
  return (
    <>
      <header class="top">
        <a class="brand" href="#/services">micromesh</a>
        <nav class="tabs">
          {TABS.map(([id, label]) => <a key={id} href={`#/${id}`} class={page === id ? 'on' : ''}>{label}</a>)}
        </nav>
        <span class="spacer" />
        {info?.readOnly && <span class="badge ro" title="no call form, no publish">read-only</span>}
        {info && <span class="node-id mono" title="the node this dashboard runs on">{info.node}</span>}
        <button class="icon" title="toggle dark/light theme" aria-label="toggle theme" onClick={toggleTheme}>◐</button>
      </header>
      <main>
        {route[0] === 'service' && route[1] ? <ServicePage name={route[1]} store={store} readOnly={readOnly} />
          : page === 'mesh' ? <MeshPage store={store} />
            : page === 'pubsub' ? <PubsubPage store={store} readOnly={readOnly} />
              : page === 'stats' ? <StatsPage />
                : page === 'terminal' ? <TerminalPage readOnly={readOnly} />
                  : <ServicesPage store={store} />}
      </main>
    </>
  );
}

// The first page's data is asked for now, while the app renders its frame:
// the live stream (the mesh page's data) for the page's whole life.
const store = new LiveStore();
void store.run(new AbortController().signal);
const first = location.hash.replace(/^#\/?/, '') || 'services';
if (first === 'services') prefetch('api/services');
else if (first.startsWith('service/')) prefetch(`api/services/${encodeURIComponent(decodeURIComponent(first.slice(8)))}`);
render(<App store={store} />, document.getElementById('app')!);
