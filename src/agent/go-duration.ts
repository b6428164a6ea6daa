/**
 * Go's duration syntax (time.ParseDuration), which every Consul duration
 * field uses: "10s", "1m30s", "1.5h", "500ms", "0". The agent keeps
 * milliseconds, so ns/µs values round up to whole ms (a "300us" timeout must
 * not become 0, which would mean "none").
 */

const NS_PER: Readonly<Record<string, bigint>> = {
  ns: 1n,
  us: 1_000n,
  'µs': 1_000n, // U+00B5 MICRO SIGN
  'μs': 1_000n, // U+03BC GREEK SMALL LETTER MU
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

/** Go's time.Duration is an int64 of ns; beyond it ParseDuration fails. */
const MAX_NS = (1n << 63n) - 1n;
const PART = /^(\d*)(?:\.(\d*))?([a-z\u00b5\u03bc]+)/u;

/** Milliseconds, rounded up, from nanoseconds (exact, in BigInt). */
function nsToMs(ns: bigint): number {
  return Number((ns + 999_999n) / 1_000_000n);
}

/**
 * Parses a Go duration string into ms (ns/µs round up). No sign: Consul's
 * durations are never negative. Undefined when malformed or beyond int64 ns.
 */
export function parseGoDuration(text: string): number | undefined {
  if (text === '0') return 0;
  if (text.length === 0 || text.length > 100) return undefined;
  let rest = text;
  let total = 0n;
  while (rest.length > 0) {
    const m = PART.exec(rest);
    if (m === null) return undefined;
    const [whole, intDigits = '', fracDigits, unitName = ''] = m;
    // Go needs a digit on one side of the dot: ".5s" and "1.s" pass, ".s" does not.
    if (intDigits === '' && (fracDigits ?? '') === '') return undefined;
    const unit = NS_PER[unitName];
    if (unit === undefined) return undefined;
    let ns = BigInt(intDigits === '' ? '0' : intDigits) * unit;
    if (fracDigits !== undefined && fracDigits !== '') {
      // Go truncates the fraction below 1 ns; so does the integer division.
      ns += (BigInt(fracDigits) * unit) / 10n ** BigInt(fracDigits.length);
    }
    total += ns;
    if (total > MAX_NS) return undefined;
    rest = rest.slice(whole.length);
  }
  return nsToMs(total);
}

/**
 * A duration field as Consul's JSON decoder takes it: a Go duration string,
 * or a number of nanoseconds (Go's encoding of time.Duration). Undefined
 * when neither, negative, fractional or out of int64's range.
 */
export function goDurationFromJson(value: unknown): number | undefined {
  if (typeof value === 'string') return parseGoDuration(value);
  // Number(MAX_NS) rounds up to 2^63, hence `<`.
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value < Number(MAX_NS)) return nsToMs(BigInt(value));
  return undefined;
}
