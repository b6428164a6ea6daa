/**
 * A timer that fires later than this after its due time means this process
 * was paused (GC, a busy event loop, SIGSTOP). Node runs due timers before it
 * reads sockets, so whatever arrived during the pause is still unread: a
 * verdict taken then may ignore the refutation or the ack that settles it.
 * Such a verdict waits one turn of the event loop (a 0 ms timer runs after
 * the poll phase), once. Timers are normally a millisecond or two late; a
 * pause shorter than this tolerance leaves too little time for anything to
 * arrive unread.
 */
export const LATE_TIMER_TOLERANCE_MS = 10;

/** Whether a timer due at `dueMs` that runs at `nowMs` shows a pause of this process. */
export function firedLate(nowMs: number, dueMs: number): boolean {
  return nowMs - dueMs > LATE_TIMER_TOLERANCE_MS;
}
