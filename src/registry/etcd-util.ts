import type { Etcd3 } from 'etcd3';
import type { Clock, Random } from '../clock/types.ts';
import { MeshError } from '../errors/index.ts';

/** Shared by the EtcdRegistry's parts: error shapes, abortable waits and retry pacing. */

export const ETCD_ERROR_ID = 'micromesh.registry';
/** Retry delays (resync after a broken watch, re-grant after a lost lease): from this, doubling, with jitter. */
export const RETRY_MIN_MS = 100;
/** ... up to this, so a registration is back well within the 2 s minimum TTL of etcd's return. */
export const RETRY_MAX_MS = 1000;

export function jitter(random: Random, ms: number): number {
  return ms * (0.75 + random.next() * 0.5);
}

export function unavailable(what: string, err: unknown): MeshError {
  if (err instanceof MeshError) return err;
  const detail = err instanceof Error ? err.message : String(err);
  return new MeshError('UNAVAILABLE', `etcd ${what} failed: ${detail}`, { id: ETCD_ERROR_ID, cause: err });
}

export function notRunning(): MeshError {
  return new MeshError('NOT_RUNNING', 'the etcd registry is closed', { id: ETCD_ERROR_ID });
}

/** `p`, or CANCELLED as soon as `signal` aborts (the etcd call itself runs on; its result is dropped). */
export function abortable<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return p;
  if (signal.aborted) {
    p.catch(() => undefined);
    return Promise.reject(new MeshError('CANCELLED', 'operation aborted', { id: ETCD_ERROR_ID, cause: signal.reason }));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new MeshError('CANCELLED', 'operation aborted', { id: ETCD_ERROR_ID, cause: signal.reason }));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => { signal.removeEventListener('abort', onAbort); resolve(v); },
      (e: unknown) => { signal.removeEventListener('abort', onAbort); reject(e); },
    );
  });
}

/**
 * An etcd client as micromesh's etcd parts use it (the registry, the
 * key/value store): etcd3 loaded here, on first use; unary calls get a
 * deadline (etcd3 1.1.2 ignores its own dialTimeout), streams live on; no
 * per-host circuit breaker (it would refuse calls for 5 s after etcd
 * returns; our retries pace themselves).
 */
export async function connectEtcd(hosts: string[], clock: Clock, deadlineMs: number, who: string): Promise<Etcd3> {
  let mods: [typeof import('etcd3'), typeof import('cockatiel')];
  try {
    mods = await Promise.all([import('etcd3'), import('cockatiel')]);
  } catch (err) {
    throw new MeshError('UNAVAILABLE', `${who} needs the etcd3 package (npm install etcd3@1.1.2)`, { id: ETCD_ERROR_ID, cause: err });
  }
  const [{ Etcd3 }, { noop }] = mods;
  return new Etcd3({
    hosts,
    defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: new Date(clock.wallTime() + deadlineMs) }),
    faultHandling: { host: () => noop },
  });
}
