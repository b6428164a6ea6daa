/**
 * Where a malformed JSON text goes wrong, for the 400 the gateway answers
 * (V8's messages give the position for some errors but not for "Unexpected
 * token"). A strict RFC 8259 scanner run only after JSON.parse failed.
 */

/** The 0-based offset of the first character that makes `text` invalid JSON (its length when it ends too early). */
export function jsonErrorOffset(text: string): number {
  let i = 0;
  const ws = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const fail = (): never => {
    throw i;
  };
  const literal = (word: string): void => {
    for (const ch of word) if (text[i++] !== ch) { i--; fail(); }
  };
  const digit = (): boolean => i < text.length && text.charCodeAt(i) >= 0x30 && text.charCodeAt(i) <= 0x39;
  const digits = (): void => {
    if (!digit()) fail();
    while (digit()) i++;
  };
  // Fails at the first character that cannot continue the number (as V8 reports it).
  const number = (): void => {
    if (text[i] === '-') i++;
    if (text[i] === '0') i++;
    else digits();
    if (text[i] === '.') {
      i++;
      digits();
    }
    if (text[i] === 'e' || text[i] === 'E') {
      i++;
      if (text[i] === '+' || text[i] === '-') i++;
      digits();
    }
  };
  const string = (): void => {
    i++; // opening quote
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 0x22) { i++; return; }
      if (c < 0x20) fail();
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e === 'u') {
          i += 2;
          for (let k = 0; k < 4; k++, i++) if (!/[0-9a-fA-F]/.test(text[i] ?? '')) fail();
          continue;
        }
        if (e === undefined || !'"\\/bfnrt'.includes(e)) { i++; fail(); }
        i += 2;
        continue;
      }
      i++;
    }
    fail();
  };
  // Containers are kept on an explicit stack, not the call stack: any depth a body can reach is scanned.
  const value = (): void => {
    const open: ('{' | '[')[] = [];
    for (;;) {
      ws();
      const c = text[i];
      if (c === '{' || c === '[') {
        i++;
        ws();
        if (text[i] === (c === '{' ? '}' : ']')) i++; // empty: a complete value
        else {
          open.push(c);
          if (c === '{') member();
          continue;
        }
      } else if (c === '"') string();
      else if (c === 't') literal('true');
      else if (c === 'f') literal('false');
      else if (c === 'n') literal('null');
      else number();
      // After a value: a comma continues the innermost container, its closer ends it.
      for (;;) {
        if (open.length === 0) return;
        ws();
        const top = open[open.length - 1]!;
        if (text[i] === ',') {
          i++;
          if (top === '{') member();
          break;
        }
        if (text[i] === (top === '{' ? '}' : ']')) {
          i++;
          open.pop();
          continue;
        }
        fail();
      }
    }
  };
  /** A member's key and colon; its value follows. */
  const member = (): void => {
    ws();
    if (text[i] !== '"') fail();
    string();
    ws();
    if (text[i] !== ':') fail();
    i++;
  };
  try {
    value();
    ws();
    if (i < text.length) fail();
  } catch (at) {
    if (typeof at === 'number') return Math.min(at, text.length);
    throw at;
  }
  return text.length;
}

/** `line L column C` (1-based) of an offset, for people reading the error. */
export function lineColumn(text: string, offset: number): string {
  let line = 1;
  let col = 1;
  for (let k = 0; k < offset && k < text.length; k++) {
    if (text[k] === '\n') { line++; col = 1; } else col++;
  }
  return `line ${line} column ${col}`;
}
