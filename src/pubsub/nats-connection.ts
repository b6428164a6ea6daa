import type { JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Clock, Random } from '../clock/types.ts';
import { MeshError } from '../errors/index.ts';
import type { Logger } from '../log/types.ts';
import type { RateLimitedLog } from '../log/limit.ts';
import type { NatsBrokerConfig } from './nats-config.ts';
import type { Names, QueueInterest } from './nats-queue.ts';

type CoreModule = typeof import('@nats-io/transport-node');

export interface ConnectionDeps {
  config: NatsBrokerConfig;
  clock: Clock;
  random: Random;
  log: Logger;
  limited: RateLimitedLog;
  names: Names;
  interest: QueueInterest;
  jsm: () => JetStreamManager | undefined;
}

const RECONNECT_MIN_MS = 100;
const RECONNECT_MAX_MS = 5000;

/**
 * The NATS connection of a NatsBroker: reconnecting forever with a doubling,
 * jittered delay; whether it is up, for `publish` to wait (bounded) rather
 * than queue into a connection that is away; and the queue-group interest,
 * reloaded after every reconnect (the server may have restarted).
 */
export class NatsConnectionState {
  private readonly d: ConnectionDeps;
  private nc: NatsConnection | undefined;
  private up = false;
  private attempts = 0;
  private waiters = new Set<() => void>();

  constructor(d: ConnectionDeps) {
    this.d = d;
  }

  get connected(): boolean {
    return this.up;
  }

  async open(core: CoreModule, signal?: AbortSignal): Promise<NatsConnection> {
    const c = this.d.config;
    let nc: NatsConnection;
    try {
      nc = await core.connect({
        servers: c.servers, name: c.name, reconnect: true, maxReconnectAttempts: -1, waitOnFirstConnect: false,
        timeout: c.publishTimeoutMs, pingInterval: 10_000, maxPingOut: 2,
        reconnectDelayHandler: () => {
          const base = Math.min(RECONNECT_MAX_MS, RECONNECT_MIN_MS * 2 ** Math.min(this.attempts++, 10));
          return base / 2 + this.d.random.next() * (base / 2);
        },
      });
    } catch (e) {
      throw new MeshError('UNAVAILABLE', `cannot connect to NATS at ${c.servers.join(', ')}: ${(e as Error).message}`, { id: 'micromesh.broker', cause: e });
    }
    if (signal?.aborted) {
      await nc.close();
      throw new MeshError('CANCELLED', 'start aborted', { id: 'micromesh.broker', cause: signal.reason });
    }
    this.nc = nc;
    this.up = true;
    void this.watchStatus(nc);
    return nc;
  }

  /** The connection, once it is up: waits up to publishTimeoutMs during an outage, then fails with UNAVAILABLE. */
  async ready(signal: AbortSignal | undefined, topic: string): Promise<NatsConnection> {
    const nc = this.nc;
    if (nc === undefined || nc.isClosed()) throw new MeshError('NOT_RUNNING', `broker is not started; cannot use ${topic}`, { id: 'micromesh.broker' });
    if (this.up) return nc;
    const ms = this.d.config.publishTimeoutMs;
    const ac = new AbortController();
    const onAbort = (): void => ac.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    const wake = (): void => ac.abort();
    this.waiters.add(wake);
    try {
      await this.d.clock.sleep(ms, ac.signal).then(() => undefined, () => undefined);
    } finally {
      this.waiters.delete(wake);
      signal?.removeEventListener('abort', onAbort);
    }
    if (signal?.aborted) throw new MeshError('CANCELLED', 'publish aborted', { id: 'micromesh.broker', cause: signal.reason });
    if (!this.up || this.nc !== nc) {
      throw new MeshError('UNAVAILABLE', `NATS server unreachable for ${ms} ms (publishTimeoutMs); ${topic} not published`, { id: 'micromesh.broker' });
    }
    return nc;
  }

  /** Follows the queue stream's consumers (advisories), after listing them. */
  async watchInterest(nc: NatsConnection): Promise<void> {
    const { stream } = this.d.names;
    nc.subscribe(`$JS.EVENT.ADVISORY.CONSUMER.*.${stream}.*`, {
      callback: (_e, msg) => {
        const parts = msg.subject.split('.');
        const action = parts[4];
        const consumer = parts[parts.length - 1]!;
        if (action === 'DELETED') this.d.interest.delete(consumer);
        else if (action === 'CREATED') void this.learn(consumer);
      },
    });
    await nc.flush();
    await this.reload();
  }

  async close(): Promise<void> {
    const nc = this.nc;
    this.nc = undefined;
    this.up = false;
    for (const w of this.waiters) w();
    if (nc === undefined || nc.isClosed()) return;
    // Drain delivers what already arrived; it is bounded so a stuck server cannot hold stop.
    const ac = new AbortController();
    const drained = nc.drain().catch(() => {});
    await Promise.race([drained, this.d.clock.sleep(2000, ac.signal).catch(() => {})]);
    ac.abort();
    if (!nc.isClosed()) await nc.close().catch(() => {});
  }

  private async learn(consumer: string): Promise<void> {
    try {
      const info = await this.d.jsm()?.consumers.info(this.d.names.stream, consumer);
      if (info !== undefined) this.d.interest.set(consumer, info.config.filter_subject);
    } catch (e) {
      this.d.limited.warn('interest', 'could not read a queue-group consumer', { consumer, error: String(e) });
    }
  }

  private async reload(): Promise<void> {
    const jsm = this.d.jsm();
    if (jsm === undefined) return;
    try {
      const seen = new Set<string>();
      for await (const ci of jsm.consumers.list(this.d.names.stream)) {
        seen.add(ci.name);
        this.d.interest.set(ci.name, ci.config.filter_subject);
      }
    } catch (e) {
      // No stream yet: no queue group anywhere (the first one creates it, and its advisory tells us).
      if (!/not found/i.test(String(e))) this.d.limited.warn('interest', 'could not list queue-group consumers', { error: String(e) });
    }
  }

  private async watchStatus(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') {
        this.up = false;
        this.d.log.warn('NATS connection lost; reconnecting', { server: String((s as { server?: string }).server ?? '') });
      } else if (s.type === 'reconnect') {
        this.up = true;
        this.attempts = 0;
        this.d.log.info('NATS connection back', { server: String((s as { server?: string }).server ?? '') });
        for (const w of this.waiters) w();
        void this.reload();
      }
    }
  }
}
