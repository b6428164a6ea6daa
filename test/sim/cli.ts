// The simulator's command line: `npm run sim -- --help`.
import { OptionError, USAGE, parseOptions } from './options.ts';
import { describeRun, simulate } from './run.ts';

async function main(): Promise<number> {
  let o;
  try {
    o = parseOptions(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof OptionError)) throw err;
    process.stderr.write(`sim: ${err.message}\n\n${USAGE}`);
    return 2;
  }
  if (o === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  const progress = o.json ? undefined : (r: Parameters<typeof describeRun>[0]) => process.stderr.write(`  ${describeRun(r)}\n`);
  const { report } = await simulate(o, progress);
  process.stdout.write(o.json ? `${JSON.stringify(report)}\n` : summary(report));
  return 0;
}

/** The report as aligned "key  value" lines, nulls left out. */
function summary(report: Record<string, unknown>): string {
  const lines: string[] = [];
  const add = (prefix: string, obj: Record<string, unknown>): void => {
    for (const [k, v] of Object.entries(obj)) {
      if (v === null || v === undefined) continue;
      if (typeof v === 'object' && !Array.isArray(v)) add(`${prefix}${k}.`, v as Record<string, unknown>);
      else lines.push(`${`${prefix}${k}`.padEnd(36)} ${Array.isArray(v) ? v.join(',') : String(v)}`);
    }
  };
  add('', report);
  return `${lines.join('\n')}\n`;
}

process.exitCode = await main();
