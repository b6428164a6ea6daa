// Output of the listing commands: a table for people, JSON with --json.
export function print(json: boolean | undefined, value: unknown, table: () => string[][]): void {
  if (json) {
    console.log(JSON.stringify(value, null, 2));
    return;
  }
  const rows = table();
  if (rows.length === 0) return;
  // A row of one cell (a line under a table row) takes no part in column widths.
  const widths: number[] = [];
  for (const r of rows) if (r.length > 1) r.forEach((cell, c) => { widths[c] = Math.max(widths[c] ?? 0, cell.length); });
  for (const r of rows) console.log(r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ').trimEnd());
}
