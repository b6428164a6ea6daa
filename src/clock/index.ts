export type { Clock, Random, TimerHandle, TimerOptions } from './types.ts';
export { SystemClock, SystemRandom } from './system.ts';
export { VirtualClock } from './virtual.ts';
export { SeededRandom } from './seeded.ts';
