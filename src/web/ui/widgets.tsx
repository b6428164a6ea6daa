import type { WireError } from './api.ts';

/** A failed call or request: its stable code first, then the detail and the HTTP status. */
export function ErrorBox({ error }: { error: WireError }) {
  return (
    <div class="error-box" role="alert" data-code={error.code}>
      <span class="code">{error.code}</span> <span class="muted">HTTP {error.status}</span>
      <div class="detail">{error.detail}</div>
    </div>
  );
}

export function StateBadge({ state }: { state: string }) {
  return <span class={`state ${state}`}>{state}</span>;
}
