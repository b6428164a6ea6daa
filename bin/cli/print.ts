// Output of the listing commands: a table for people, JSON with --json.
export function print(json: boolean | undefined, value: unknown, table: () => string[][]): void {
  if (json) {
    console.log(JSON.stringify(value, null, 2));
    return;
  }
  const rows = table();
  if (rows.length === 0) return;
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  for (const r of rows) console.log(r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ').trimEnd());
}
