/**
 * `micromesh bot`: chat-ops for the mesh (Go Micro's micro bot). Chat
 * inputs (XMPP, IRC, Slack, a terminal) sit behind one small interface; the
 * bot supervises them (reconnecting with backoff), parses what users type
 * into commands, checks who may run them, and answers in chat-sized text.
 */

/** A message addressed to the bot: a direct message, or a room message that names it. */
export interface ChatMessage {
  /**
   * Who sent it, qualified by the input so identities never collide across
   * chats: `xmpp:ada@example.org`, `irc:ada!ada@host` (nick!user@host),
   * `slack:T123/U456`, `stdin:`. The allowlist and the rate limit key on it.
   */
  from: string;
  /** A short name to address the sender by in a room (`ada`). */
  fromName: string;
  /** Where the answer goes, opaque to the bot: the input's own id of the room, channel or direct conversation. */
  conversation: string;
  /** A one-to-one conversation, not a room or channel. */
  direct: boolean;
  /** What the user typed for the bot, its name or mention already removed (`services`, not `bot: services`). */
  text: string;
}

/** One piece of an answer: prose, or preformatted text (tables, JSON) an input shows as a code block. */
export type ReplyBlock = { kind: 'text'; text: string } | { kind: 'code'; text: string };

/** An answer, rendered by each input in its chat's conventions. */
export interface Reply {
  blocks: ReplyBlock[];
}

/** What an input tells the bot. */
export interface InputEvents {
  /** A message addressed to the bot. Must not throw; the bot answers through `send`. */
  message(m: ChatMessage): void;
  /** The connection ended without `close()` (the server went away, a network error): the bot reconnects with backoff. */
  closed(reason: Error): void;
}

/**
 * A chat connection. The bot calls `connect`, then `send` for each answer,
 * and `close` once; after `closed` it calls `connect` again (backoff is the
 * bot's, not the input's: inputs must not reconnect on their own).
 */
export interface ChatInput {
  /** `xmpp`, `irc`, `slack`, `stdin`: the prefix of its users' identities. */
  readonly name: string;
  /**
   * Connects, logs in and joins its rooms; resolves once messages can
   * arrive. Rejects (MeshError `UNAVAILABLE` or `UNAUTHORIZED`) when it
   * cannot, and honours `signal`.
   */
  connect(events: InputEvents, opts?: { signal?: AbortSignal }): Promise<void>;
  /** Sends an answer to a conversation of a message it delivered. Rejects `UNAVAILABLE` while disconnected. */
  send(conversation: string, reply: Reply, opts?: { signal?: AbortSignal }): Promise<void>;
  /** Leaves and disconnects; no `closed` event follows. Idempotent. */
  close(): Promise<void>;
}
