// The machine's cores, shared by every simulated process (--cpu-cores,
// --cpu-packet-ms). Off by default: the simulator models a LAN of hosts that
// each have CPU to spare. On, it models what the real-process bench runs on:
// N processes on one small machine, where the news of a death wakes all of
// them at once and each packet waits for a core. Without it, a death reached
// all 49 observers about 1 ms after the first in the simulator but 100 ms in
// 50 real processes on 2 cores (bench/swim-crash.ts).
import type { Clock } from '../../src/clock/types.ts';

export interface CpuModel {
  /** Cores shared by all simulated processes. */
  cores: number;
  /** CPU time one received packet costs its process, ms (measured: CPU time ÷ packets received). */
  packetMs: number;
}

/**
 * First come, first served on the earliest free core: a packet is handled
 * `packetMs` after a core takes it, and its effects (answers, events) happen
 * then. Timers and stream work are not charged; packets are most of an idle
 * node's work.
 */
export class SharedCpu {
  private readonly clock: Clock;
  private readonly packetMs: number;
  /** When each core is next free, virtual ms. */
  private readonly freeAt: number[];

  constructor(clock: Clock, model: CpuModel) {
    this.clock = clock;
    this.packetMs = model.packetMs;
    this.freeAt = new Array<number>(model.cores).fill(0);
  }

  /** Runs `fn` once a core has spent `packetMs` on it. */
  run(fn: () => void): void {
    const free = this.freeAt;
    let k = 0;
    for (let i = 1; i < free.length; i++) if (free[i]! < free[k]!) k = i;
    const now = this.clock.now();
    const done = Math.max(now, free[k]!) + this.packetMs;
    free[k] = done;
    this.clock.setTimeout(fn, done - now);
  }
}
