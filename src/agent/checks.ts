import { createRequire } from 'node:module';
import type http from 'node:http';
import type https from 'node:https';
import net from 'node:net';
import { MeshError, tryParseHostPort, type Clock, type Logger, type TimerHandle } from '../index.ts';
import type { CheckDefinition } from './registration.ts';
import type { CheckStatus } from './types.ts';


/** node:http and node:https are required at the first probe (see httpProbe). */
const load = createRequire(import.meta.url);

/**
 * The agent's health checks (Consul's agent/checks): HTTP and TCP probes
 * every Interval, TTL checks that go critical unless their service updates
 * them in time, and the reaper of services critical for longer than their
 * DeregisterCriticalServiceAfter. The state rules are the small pure
 * functions below; the class only owns timers and sockets.
 *
 * HTTP probes use node:http/https rather than fetch: a per-request
 * `rejectUnauthorized` (TLSSkipVerify) needs no undici dispatcher, and the
 * body can be cut at the output limit by destroying the response.
 */

export interface CheckState {
  id: string;
  name: string;
  serviceId: string;
  serviceName: string;
  kind: 'http' | 'tcp' | 'ttl';
  status: CheckStatus;
  output: string;
  notes: string;
  /** When it last changed status (clock ms). */
  changedAtMs: number;
  definition: CheckDefinition;
}

export interface AgentChecksOptions {
  clock: Clock;
  logger: Logger;
  /** Output kept per check, bytes (Consul's check_output_max_size is 4096); longer output is cut and says so. */
  outputLimitBytes: number;
  /** Called after every status or output change (not on add or remove). */
  onChange: (check: CheckState) => void;
  /**
   * A check stayed critical longer than its deregisterCriticalAfterMs. The
   * service's checks are already removed when this is called; the agent
   * removes the service. Called once per service.
   */
  onDeregister: (serviceId: string, checkId: string) => void;
  /** Reaper period, ms (Consul's check_reap_interval, default 30000); never longer than the shortest after. */
  reapIntervalMs?: number;
}

/** Consul's answer to an HTTP check: 2xx passing, 429 (Too Many Requests) warning, anything else critical. */
export function httpCheckStatus(statusCode: number): CheckStatus {
  if (statusCode >= 200 && statusCode <= 299) return 'passing';
  return statusCode === 429 ? 'warning' : 'critical';
}

/**
 * Cuts `text` to at most `limitBytes` UTF-8 bytes, ending with a note that it
 * was cut (the note counts toward the limit), never inside a character.
 */
export function truncateOutput(text: string, limitBytes: number): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= limitBytes) return text;
  const note = `\n... (output truncated to ${limitBytes} bytes)`;
  let end = Math.max(0, limitBytes - Buffer.byteLength(note));
  // Back up to the start of a character: continuation bytes are 10xxxxxx.
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return (bytes.subarray(0, end).toString('utf8') + note).slice(0, limitBytes);
}

/** Consul's output for an expired TTL, keeping what the service last said. */
export function ttlExpiredOutput(lastOutput: string): string {
  return lastOutput === '' ? 'TTL expired' : `TTL expired (last output before timeout follows): ${lastOutput}`;
}

/** Whether the reaper removes this check's service at `nowMs`. */
export function reapDue(check: Pick<CheckState, 'status' | 'changedAtMs' | 'definition'>, nowMs: number): boolean {
  const after = check.definition.deregisterCriticalAfterMs;
  return after !== undefined && check.status === 'critical' && nowMs - check.changedAtMs > after;
}

interface Entry {
  state: CheckState;
  /** The next probe, or the TTL's expiry. */
  timer?: TimerHandle;
  /** The probe in flight. */
  probe?: AbortController;
  /** Removed or replaced: its late results are dropped. */
  gone: boolean;
  /** Last warning logged for it: a flapping check logs at most once per WARN_EVERY_MS (kept here, so it goes with the check). */
  warnedAtMs?: number;
}

const WARN_EVERY_MS = 10_000;

interface ProbeResult {
  status: CheckStatus;
  output: string;
}

export class AgentChecks {
  private readonly o: AgentChecksOptions;
  private readonly entries = new Map<string, Entry>();
  private reaper: TimerHandle | undefined;
  private stopped = false;

  constructor(o: AgentChecksOptions) {
    this.o = o;
  }

  /** Starts the checks of one service (replacing checks with the same ids); http/tcp probe at once, then every intervalMs. */
  add(defs: readonly CheckDefinition[]): void {
    if (this.stopped) throw new MeshError('NOT_RUNNING', 'the agent\'s checks are stopped', { id: 'micromesh.agent' });
    for (const def of defs) {
      const old = this.entries.get(def.id);
      if (old !== undefined) this.drop(old);
      const entry: Entry = {
        state: {
          id: def.id, name: def.name, serviceId: def.serviceId, serviceName: def.serviceName, kind: def.kind,
          status: def.initialStatus, output: '', notes: def.notes, changedAtMs: this.o.clock.now(), definition: def,
        },
        gone: false,
      };
      this.entries.set(def.id, entry);
      if (def.kind === 'ttl') this.armTtl(entry);
      else void this.runProbe(entry);
    }
    this.armReaper();
  }

  /** Stops and forgets every check of the service. */
  removeService(serviceId: string): void {
    for (const entry of [...this.entries.values()]) if (entry.state.serviceId === serviceId) this.drop(entry);
  }

  /**
   * Sets a TTL check's status (pass/warn/fail or the update endpoint) and
   * restarts its TTL. False if the id is unknown; BAD_REQUEST for an HTTP or
   * TCP check, as Consul refuses ("does not have associated TTL"): its next
   * probe would overwrite the update anyway.
   */
  update(checkId: string, status: CheckStatus, output: string): boolean {
    const entry = this.entries.get(checkId);
    if (entry === undefined) return false;
    if (entry.state.kind !== 'ttl') {
      throw new MeshError('BAD_REQUEST', `check "${checkId}" is a ${entry.state.kind.toUpperCase()} check, not a TTL check: only TTL checks take updates`, { id: 'micromesh.agent' });
    }
    this.set(entry, status, output);
    this.armTtl(entry);
    return true;
  }

  get(checkId: string): CheckState | undefined {
    const entry = this.entries.get(checkId);
    return entry === undefined ? undefined : { ...entry.state };
  }

  list(): CheckState[] {
    return [...this.entries.values()].map((e) => ({ ...e.state }));
  }

  /** Stops every timer and in-flight probe; idempotent. */
  stop(): void {
    this.stopped = true;
    for (const entry of [...this.entries.values()]) this.drop(entry);
    this.o.clock.clearTimeout(this.reaper);
    this.reaper = undefined;
  }

  private drop(entry: Entry): void {
    entry.gone = true;
    this.o.clock.clearTimeout(entry.timer);
    entry.probe?.abort(new MeshError('CANCELLED', `check "${entry.state.id}" was removed`));
    if (this.entries.get(entry.state.id) === entry) this.entries.delete(entry.state.id);
  }

  /** Records a result; onChange only when the status or the output changed. */
  private set(entry: Entry, status: CheckStatus, rawOutput: string): void {
    const output = truncateOutput(rawOutput, this.o.outputLimitBytes);
    const s = entry.state;
    if (s.status === status && s.output === output) return;
    if (s.status !== status) {
      s.changedAtMs = this.o.clock.now();
      const fields = { check: s.id, service: s.serviceId, from: s.status, to: status };
      if (status === 'passing') {
        this.o.logger.debug('check is now passing', fields);
      } else if (entry.warnedAtMs === undefined || s.changedAtMs - entry.warnedAtMs >= WARN_EVERY_MS) {
        entry.warnedAtMs = s.changedAtMs;
        this.o.logger.warn(`check is now ${status}`, { ...fields, output });
      }
    }
    s.status = status;
    s.output = output;
    try {
      this.o.onChange({ ...s });
    } catch (err) {
      this.o.logger.error('check onChange callback threw', { check: s.id, err: String(err) });
    }
  }

  private armTtl(entry: Entry): void {
    this.o.clock.clearTimeout(entry.timer);
    entry.timer = this.o.clock.setTimeout(() => {
      entry.timer = undefined;
      if (!entry.gone) this.set(entry, 'critical', ttlExpiredOutput(entry.state.output));
    }, entry.state.definition.ttlMs ?? 0);
  }

  /** One probe, then the next one intervalMs after it ends (Consul's loop): probes of a check never overlap. */
  private async runProbe(entry: Entry): Promise<void> {
    const def = entry.state.definition;
    const ac = new AbortController();
    entry.probe = ac;
    const timer = this.o.clock.setTimeout(
      () => ac.abort(new MeshError('TIMEOUT', `timed out after ${def.timeoutMs} ms`)), def.timeoutMs);
    let result: ProbeResult;
    try {
      result = def.kind === 'http'
        ? await httpProbe(def, this.o.outputLimitBytes, ac.signal)
        : await tcpProbe(def.tcp ?? '', ac.signal);
    } catch (err) {
      // The probes turn every failure into a result; this is a bug's last stop, not a crash.
      result = { status: 'critical', output: `check failed: ${err instanceof Error ? err.message : String(err)}` };
    } finally {
      this.o.clock.clearTimeout(timer);
      entry.probe = undefined;
    }
    if (entry.gone) return;
    this.set(entry, result.status, result.output);
    entry.timer = this.o.clock.setTimeout(() => {
      entry.timer = undefined;
      if (!entry.gone) void this.runProbe(entry);
    }, def.intervalMs ?? DEFAULT_INTERVAL_MS);
  }

  /** One reaper timer while any check can deregister its service. */
  private armReaper(): void {
    if (this.stopped || this.reaper !== undefined) return;
    let period = this.o.reapIntervalMs ?? 30_000;
    let any = false;
    for (const e of this.entries.values()) {
      const after = e.state.definition.deregisterCriticalAfterMs;
      if (after !== undefined) {
        any = true;
        period = Math.min(period, after);
      }
    }
    if (!any) return;
    this.reaper = this.o.clock.setTimeout(() => {
      this.reaper = undefined;
      this.reap();
      this.armReaper();
    }, period);
  }

  private reap(): void {
    const now = this.o.clock.now();
    for (const entry of [...this.entries.values()]) {
      // An earlier check of the same service may have removed this one already.
      if (entry.gone || !reapDue(entry.state, now)) continue;
      const { serviceId, id } = entry.state;
      this.o.logger.info('deregistering a service critical for longer than DeregisterCriticalServiceAfter', {
        service: serviceId, check: id, afterMs: entry.state.definition.deregisterCriticalAfterMs,
      });
      this.removeService(serviceId);
      try {
        this.o.onDeregister(serviceId, id);
      } catch (err) {
        this.o.logger.error('check onDeregister callback threw', { service: serviceId, err: String(err) });
      }
    }
  }
}

const DEFAULT_INTERVAL_MS = 10_000;

function reasonOf(signal: AbortSignal, err: unknown): string {
  if (signal.aborted) return signal.reason instanceof Error ? signal.reason.message : String(signal.reason);
  return err instanceof Error ? err.message : String(err);
}

/** Consul's HTTP check: `HTTP GET <url>: 200 OK Output: <body, cut at the limit>`. */
function httpProbe(def: CheckDefinition, limitBytes: number, signal: AbortSignal): Promise<ProbeResult> {
  const h = def.http!;
  const prefix = `HTTP ${h.method} ${h.url}`;
  return new Promise((resolve) => {
    let settled = false;
    const done = (r: ProbeResult): void => {
      if (settled) return;
      settled = true;
      resolve(r);
    };
    const fail = (err: unknown): void => done({ status: 'critical', output: `${prefix}: ${reasonOf(signal, err)}` });
    const url = new URL(h.url);
    const headers: Record<string, string | string[]> = { 'User-Agent': 'Consul Health Check', Accept: 'text/plain, text/*, */*', ...h.headers };
    // Required here, not imported: a static import would load node:https (TLS) for every command of the CLI bundle.
    const lib = load(url.protocol === 'https:' ? 'node:https' : 'node:http') as typeof https;
    let req: http.ClientRequest;
    try {
      // agent: false: a fresh connection per probe, as Consul disables keep-alive, so a dead server shows at once.
      req = lib.request(url, { method: h.method, headers, signal, agent: false, rejectUnauthorized: !h.tlsSkipVerify }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const finish = (): void => {
          const code = res.statusCode ?? 0;
          const body = Buffer.concat(chunks).toString('utf8');
          done({ status: httpCheckStatus(code), output: `${prefix}: ${code} ${res.statusMessage ?? ''} Output: ${body}` });
        };
        res.on('data', (chunk: Buffer) => {
          // One byte past the limit is enough for truncateOutput to say the body was cut.
          if (settled) return;
          chunks.push(chunk.subarray(0, limitBytes + 1 - size));
          size += chunk.length;
          if (size > limitBytes) {
            finish();
            res.destroy();
          }
        });
        res.on('end', finish);
        res.on('error', fail);
        res.on('close', finish);
      });
    } catch (err) {
      fail(err);
      return;
    }
    req.on('error', fail);
    req.end(h.body === '' ? undefined : h.body);
  });
}

/** Consul's TCP check: a connect, closed at once. */
function tcpProbe(address: string, signal: AbortSignal): Promise<ProbeResult> {
  const prefix = `TCP connect ${address}`;
  return new Promise((resolve) => {
    const hp = tryParseHostPort(address);
    if (hp === undefined) {
      resolve({ status: 'critical', output: `${prefix}: invalid address` });
      return;
    }
    const socket = net.connect({ host: hp.host, port: hp.port });
    const finish = (r: ProbeResult): void => {
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(r);
    };
    const onAbort = (): void => finish({ status: 'critical', output: `${prefix}: ${reasonOf(signal, undefined)}` });
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => finish({ status: 'passing', output: `${prefix}: Success` }));
    socket.once('error', (err) => finish({ status: 'critical', output: `${prefix}: ${err.message}` }));
  });
}
