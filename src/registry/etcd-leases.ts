import type { Etcd3, Lease } from 'etcd3';
import type { Clock, Random, TimerHandle } from '../clock/types.ts';
import type { RateLimitedLog } from '../log/limit.ts';
import type { Logger } from '../log/types.ts';
import { decodeRecord } from './etcd-codec.ts';
import { jitter, notRunning, RETRY_MAX_MS, RETRY_MIN_MS, unavailable, abortable } from './etcd-util.ts';
import { MeshError } from '../errors/index.ts';
import type { Service } from './types.ts';
import { checkSignal } from './util.ts';

/** A node this registry registered and keeps alive. */
interface Registration {
  key: string;
  name: string;
  version: string;
  value: string;
  ttlSec: number;
  /** Undefined while lost and being granted again. */
  lease: Lease | undefined;
  retryMs: number;
  timer: TimerHandle | undefined;
}

export interface EtcdLeasesDeps {
  client: () => Promise<Etcd3>;
  closed: () => boolean;
  clock: Clock;
  random: Random;
  logger: Logger;
  rlog: RateLimitedLog;
}

/**
 * The EtcdRegistry's own nodes: each key under its own lease (as go-micro
 * does), kept alive by the etcd3 client. A lease the client reports lost
 * (expired while etcd was unreachable, revoked, or gone with a wiped etcd)
 * is granted again and the node put again, retrying until etcd answers.
 * Operations on one key run one after another.
 */
export class EtcdLeases {
  private readonly regs = new Map<string, Registration>();
  /** Per-key tail of operations, so a register, deregister and re-grant of one node never interleave. */
  private readonly tails = new Map<string, Promise<void>>();
  private readonly d: EtcdLeasesDeps;

  constructor(deps: EtcdLeasesDeps) {
    this.d = deps;
  }

  /** Registers (or updates) one node; resolves with the etcd revision of the write. */
  put(key: string, s: Service, value: string, ttlSec: number, signal?: AbortSignal): Promise<number> {
    return this.serial(key, () => this.putNode(key, s, value, ttlSec), signal);
  }

  /** Deregisters one node if it holds this (name, version); resolves with the revision of the delete, 0 when none. */
  delete(key: string, name: string, version: string, signal?: AbortSignal): Promise<number> {
    return this.serial(key, () => this.deleteNode(key, name, version), signal);
  }

  /** Revokes every lease (their keys go at once); called on close. */
  async revokeAll(): Promise<void> {
    const leases: Lease[] = [];
    for (const reg of this.regs.values()) {
      this.d.clock.clearTimeout(reg.timer);
      if (reg.lease !== undefined) leases.push(reg.lease);
    }
    this.regs.clear();
    await Promise.allSettled(leases.map((l) => l.revoke()));
  }

  /** Puts one node; returns the etcd revision of the write. */
  private async putNode(key: string, s: Service, value: string, ttlSec: number): Promise<number> {
    const reg = this.regs.get(key);
    const lease = reg?.lease;
    if (reg !== undefined && lease !== undefined && reg.ttlSec === ttlSec && !lease.revoked()) {
      try {
        const res = await lease.put(key).value(value).exec();
        Object.assign(reg, { name: s.name, version: s.version, value });
        return Number(res.header.revision);
      } catch (err) {
        if (!lease.revoked()) throw unavailable('register', err);
        // The lease is gone: fall through to a fresh one.
      }
    }
    const { lease: fresh, revision } = await this.grantAndPut(key, value, ttlSec);
    const next: Registration = reg ?? { key, name: s.name, version: s.version, value, ttlSec, lease: undefined, retryMs: RETRY_MIN_MS, timer: undefined };
    const old = next.lease;
    Object.assign(next, { name: s.name, version: s.version, value, ttlSec, lease: fresh });
    this.d.clock.clearTimeout(next.timer);
    next.timer = undefined;
    this.regs.set(key, next);
    // The key now belongs to the fresh lease, so revoking the old one deletes nothing.
    if (old !== undefined && old !== fresh) old.revoke().catch(() => undefined);
    if (fresh.revoked()) this.onLeaseLost(key, fresh, new Error('lease lost while registering'));
    return revision;
  }

  private async grantAndPut(key: string, value: string, ttlSec: number): Promise<{ lease: Lease; revision: number }> {
    const client = await this.d.client();
    const lease = client.lease(ttlSec, { autoKeepAlive: true });
    lease.on('lost', (err) => this.onLeaseLost(key, lease, err));
    try {
      await lease.grant();
      const res = await lease.put(key).value(value).exec();
      if (this.d.closed()) {
        await lease.revoke().catch(() => undefined);
        throw notRunning();
      }
      return { lease, revision: Number(res.header.revision) };
    } catch (err) {
      lease.release();
      throw err instanceof MeshError ? err : unavailable('register', err);
    }
  }

  private async deleteNode(key: string, name: string, version: string): Promise<number> {
    const reg = this.regs.get(key);
    if (reg !== undefined && (reg.name !== name || reg.version !== version)) return 0; // the key holds another version of ours
    const client = await this.d.client();
    try {
      if (reg !== undefined) {
        this.regs.delete(key);
        this.d.clock.clearTimeout(reg.timer);
        try {
          const res = await client.delete().key(key).exec();
          return Number(res.header.revision);
        } finally {
          // Revoking stops the keep-alives first, so even when etcd is unreachable the key expires by its TTL.
          await reg.lease?.revoke().catch(() => undefined);
        }
      }
      // Someone else's node (another process, a Go service): delete it only if it still holds this version.
      const got = await client.get(key).exec();
      const kv = got.kvs[0];
      if (kv === undefined) return 0;
      const rec = decodeRecord(kv.value.toString('utf8'));
      if (typeof rec === 'string' || rec.name !== name || rec.version !== version) return 0;
      const res = await client.if(key, 'Mod', '==', kv.mod_revision).then(client.delete().key(key)).commit();
      return res.succeeded ? Number(res.header.revision) : 0;
    } catch (err) {
      throw unavailable('deregister', err);
    }
  }

  private onLeaseLost(key: string, lease: Lease, err: unknown): void {
    const reg = this.regs.get(key);
    if (this.d.closed() || reg?.lease !== lease) return;
    this.d.rlog.warn(`lease-lost:${key}`, 'etcd lease lost; registering the node again', { key, error: String(err) });
    reg.lease = undefined;
    this.scheduleRegrant(reg, 0);
  }

  private scheduleRegrant(reg: Registration, ms: number): void {
    this.d.clock.clearTimeout(reg.timer);
    reg.timer = this.d.clock.setTimeout(() => {
      reg.timer = undefined;
      this.serial(reg.key, () => this.regrant(reg)).catch(() => undefined);
    }, ms);
  }

  private async regrant(reg: Registration): Promise<number> {
    if (this.d.closed() || this.regs.get(reg.key) !== reg || reg.lease !== undefined) return 0;
    try {
      const { lease, revision } = await this.grantAndPut(reg.key, reg.value, reg.ttlSec);
      if (this.regs.get(reg.key) !== reg) {
        await lease.revoke().catch(() => undefined);
        return 0;
      }
      reg.lease = lease;
      reg.retryMs = RETRY_MIN_MS;
      this.d.logger.info('node registered again in etcd', { key: reg.key });
      if (lease.revoked()) this.onLeaseLost(reg.key, lease, new Error('lease lost while registering'));
      return revision;
    } catch (err) {
      if (this.d.closed()) return 0;
      this.d.rlog.debug(`regrant:${reg.key}`, 'etcd unreachable; will retry the registration', { key: reg.key, error: String(err) });
      this.scheduleRegrant(reg, jitter(this.d.random, reg.retryMs));
      reg.retryMs = Math.min(reg.retryMs * 2, RETRY_MAX_MS);
      return 0;
    }
  }

  /** Runs `fn` after every earlier operation on `key` (successful or not). */
  private serial<T>(key: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    const run = prev.then(() => {
      checkSignal(signal);
      return fn();
    });
    const tail = run.then(() => undefined, () => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return abortable(run, signal);
  }
}
