import { useEffect, useRef, useState } from 'preact/hooks';
import { errorText, run } from './commands.ts';

interface Line { kind: 'cmd' | 'out' | 'err'; text: string }

/** micro web's browser terminal: the CLI's commands with history (↑/↓). */
export function TerminalPage({ readOnly }: { readOnly: boolean }) {
  const [lines, setLines] = useState<Line[]>([{ kind: 'out', text: 'micromesh terminal: type help for the commands.' }]);
  const [input, setInput] = useState('');
  const [busy, setBusy] = useState(false);
  const history = useRef<string[]>([]);
  const cursor = useRef(0);
  const box = useRef<HTMLDivElement>(null);
  const field = useRef<HTMLInputElement>(null);
  useEffect(() => {
    box.current?.scrollTo(0, box.current.scrollHeight);
  }, [lines]);
  useEffect(() => field.current?.focus(), [busy]);
  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    const line = input.trim();
    setInput('');
    if (line === '') return;
    history.current.push(line);
    cursor.current = history.current.length;
    if (line === 'clear') {
      setLines([]);
      return;
    }
    setLines((l) => [...l, { kind: 'cmd', text: `$ ${line}` }]);
    setBusy(true);
    try {
      const text = await run(line, readOnly);
      setLines((l) => [...l, { kind: 'out', text }]);
    } catch (err) {
      setLines((l) => [...l, { kind: 'err', text: errorText(err) }]);
    } finally {
      setBusy(false);
    }
  };
  const keys = (e: KeyboardEvent): void => {
    const h = history.current;
    if (e.key === 'ArrowUp' && cursor.current > 0) cursor.current--;
    else if (e.key === 'ArrowDown' && cursor.current < h.length) cursor.current++;
    else return;
    e.preventDefault();
    setInput(h[cursor.current] ?? '');
  };
  return (
    <section>
      <div class="terminal" id="terminal" ref={box} onClick={() => field.current?.focus()}>
        {lines.map((l, i) => <pre key={i} class={l.kind}>{l.text}</pre>)}
        <form onSubmit={submit}>
          <span class="cmd">$</span>
          <input ref={field} name="command" aria-label="command" autocomplete="off" spellcheck={false} disabled={busy} value={input}
            onInput={(e) => setInput((e.target as HTMLInputElement).value)} onKeyDown={keys} />
        </form>
      </div>
    </section>
  );
}
