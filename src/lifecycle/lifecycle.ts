/**
 * Idempotent start/stop for any component (DEVELOPERS.md rule 7): a second
 * `start` while starting or running returns the same promise; `stop` without
 * `start` is a no-op; a `start` during a `stop` waits for it, then starts
 * again; a failed start leaves the component stopped.
 */
export type LifecycleState = 'stopped' | 'starting' | 'running' | 'stopping';

export class Lifecycle {
  private current: LifecycleState = 'stopped';
  private pending: Promise<void> = Promise.resolve();

  get state(): LifecycleState {
    return this.current;
  }

  /** Starting or running. */
  get active(): boolean {
    return this.current === 'starting' || this.current === 'running';
  }

  start(run: () => Promise<void>): Promise<void> {
    if (this.active) return this.pending;
    const previous = this.pending;
    this.current = 'starting';
    this.pending = previous.catch(() => {}).then(run).then(
      () => { this.current = 'running'; },
      (err: unknown) => {
        this.current = 'stopped';
        throw err;
      },
    );
    return this.pending;
  }

  stop(run: () => Promise<void>): Promise<void> {
    if (this.current === 'stopping') return this.pending;
    if (this.current === 'stopped') return Promise.resolve();
    const previous = this.pending;
    this.current = 'stopping';
    this.pending = previous.catch(() => {}).then(run).finally(() => { this.current = 'stopped'; });
    return this.pending;
  }
}
