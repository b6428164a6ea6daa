import { useEffect, useState } from 'preact/hooks';

/**
 * Long lists render their first screen at once and the rest right after
 * that frame is painted: a 500-row table costs the browser ~150 ms of
 * script and table layout on a small machine, most of it for rows nobody
 * sees yet. The whole list is in the page a frame later (find-in-page works).
 */
export function useProgressive<T>(items: T[], first = 30): T[] {
  // Once lifted, the limit stays off: later changes (filters, live rows) render whole.
  const [limit, setLimit] = useState(first);
  useEffect(() => {
    if (items.length <= limit) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const frame = requestAnimationFrame(() => {
      timer = setTimeout(() => setLimit(Infinity), 0);
    });
    return () => {
      cancelAnimationFrame(frame);
      clearTimeout(timer);
    };
  }, [items.length, limit]);
  return items.length <= limit ? items : items.slice(0, limit);
}

/**
 * Marks (User Timing) when a page has drawn its data: `micromesh:<name>`
 * for the first screen and `micromesh:<name>:all` once every row is in, at
 * the animation frame after the commit, so the browser's own timeline tells
 * how long a page took (the scale test reads them).
 */
export function useRenderedMark(name: string, ready: boolean, complete: boolean): void {
  const [marked, setMarked] = useState(0);
  useEffect(() => {
    if (!ready || marked === 2 || (marked === 1 && !complete)) return;
    const label = marked === 0 ? `micromesh:${name}` : `micromesh:${name}:all`;
    const frame = requestAnimationFrame(() => {
      performance.mark(label);
      if (marked === 0 && complete) performance.mark(`micromesh:${name}:all`);
      setMarked(marked === 0 && !complete ? 1 : 2);
    });
    return () => cancelAnimationFrame(frame);
  }, [ready, complete, marked]);
}
