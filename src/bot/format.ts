import { jsonSafe } from '../http/index.ts';
import type { Reply, ReplyBlock } from './types.ts';

/**
 * Answers sized for chat: short tables (the rest counted in a note), JSON in
 * a code block cut at a character budget with a note, one-line prose.
 */
export class Formatter {
  private readonly maxRows: number;
  private readonly maxChars: number;

  constructor(maxRows: number, maxChars: number) {
    this.maxRows = maxRows;
    this.maxChars = maxChars;
  }

  text(...lines: string[]): Reply {
    return { blocks: [{ kind: 'text', text: this.cut(lines.join('\n')) }] };
  }

  /** A padded table (header first) in a code block; rows past `maxRows` become "… N more". */
  table(header: string[], rows: string[][], note?: string): Reply {
    const shown = rows.slice(0, this.maxRows);
    const all = [header, ...shown];
    const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
    const text = all.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
    const blocks: ReplyBlock[] = [{ kind: 'code', text: this.cut(text) }];
    const more = rows.length - shown.length;
    const notes = [...(more > 0 ? [`… ${more} more not shown`] : []), ...(note !== undefined ? [note] : [])];
    if (notes.length > 0) blocks.push({ kind: 'text', text: notes.join(' · ') });
    return { blocks };
  }

  /** A value as indented JSON in a code block, with a title line. */
  json(title: string | undefined, value: unknown): Reply {
    const blocks: ReplyBlock[] = [];
    if (title !== undefined) blocks.push({ kind: 'text', text: title });
    blocks.push({ kind: 'code', text: this.cut(JSON.stringify(value, jsonSafe, 2) ?? 'null') });
    return { blocks };
  }

  /** Concatenates answers. */
  join(...replies: Reply[]): Reply {
    return { blocks: replies.flatMap((r) => r.blocks) };
  }

  private cut(text: string): string {
    if (text.length <= this.maxChars) return text;
    return `${text.slice(0, this.maxChars)}\n… ${text.length - this.maxChars} more characters not shown`;
  }
}

