import * as v from 'valibot';
import { config } from '../index.ts';

const { definedOnly, intIn, parseConfig, str } = config;

/** The bot's settings. Every field optional on input; validated with the field and range in the error. */
export interface BotConfig {
  /**
   * Chat identities that may run commands that change things (`call`,
   * `stream`, `publish`, service commands marked mutating): exact
   * (`xmpp:ada@example.org`) or with `*` wildcards (`irc:*!*@10.0.0.*`).
   * Everyone else gets the read-only commands. Default none.
   */
  allow: string[];
  /** Commands one identity may run per minute (a token bucket refilled evenly). [1, 6000], default 30. */
  ratePerMinute: number;
  /** Commands an identity may run at once before the rate applies. [1, 1000], default 5. */
  burst: number;
  /** Deadline of `call`, `health`, `stats` and service commands, ms. [1, 600000], default 10000. */
  callTimeoutMs: number;
  /** Messages `stream` shows before it stops the stream. [1, 100], default 5. */
  streamMessages: number;
  /** How long `stream` waits for its messages, ms. [1, 600000], default 10000. */
  streamTimeoutMs: number;
  /** Rows a table answer shows; the rest are counted in a note. [1, 1000], default 20. */
  maxRows: number;
  /** Characters a JSON or text answer shows; the rest are cut with a note. [64, 100000], default 2000. */
  maxChars: number;
  /** Reconnect delays after a chat connection drops: from this, doubling, ms. [10, 600000], default 500. */
  reconnectMinMs: number;
  /** ... up to this, ms (with jitter). [10, 600000], default 5000. */
  reconnectMaxMs: number;
}

export type BotConfigInput = Partial<BotConfig>;

export const BOT_DEFAULTS: Readonly<BotConfig> = Object.freeze({
  allow: [],
  ratePerMinute: 30,
  burst: 5,
  callTimeoutMs: 10_000,
  streamMessages: 5,
  streamTimeoutMs: 10_000,
  maxRows: 20,
  maxChars: 2000,
  reconnectMinMs: 500,
  reconnectMaxMs: 5000,
});

const schema = v.strictObject({
  allow: v.optional(v.array(str(512), 'must be a list of chat identities')),
  ratePerMinute: v.optional(intIn(1, 6000)),
  burst: v.optional(intIn(1, 1000)),
  callTimeoutMs: v.optional(intIn(1, 600_000)),
  streamMessages: v.optional(intIn(1, 100)),
  streamTimeoutMs: v.optional(intIn(1, 600_000)),
  maxRows: v.optional(intIn(1, 1000)),
  maxChars: v.optional(intIn(64, 100_000)),
  reconnectMinMs: v.optional(intIn(10, 600_000)),
  reconnectMaxMs: v.optional(intIn(10, 600_000)),
});

/** Validated settings over the defaults; MeshError INVALID_CONFIG names the field and its range. */
export function resolveBotConfig(input: BotConfigInput | undefined): BotConfig {
  const c = { ...BOT_DEFAULTS, ...definedOnly(parseConfig(schema, definedOnly(input), 'bot')) } as BotConfig;
  if (c.reconnectMaxMs < c.reconnectMinMs) c.reconnectMaxMs = c.reconnectMinMs;
  return c;
}
