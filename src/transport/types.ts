/**
 * Transports move bytes between peers and know nothing of what the bytes mean.
 *
 * Like memberlist, micromesh splits them in two:
 * - {@link Transport}: reliable ordered byte streams (TCP), used by RPC and by
 *   SWIM's push-pull and TCP fallback probe;
 * - {@link PacketTransport}: best-effort datagrams (UDP), used by SWIM's probes
 *   and gossip.
 * Each has a real implementation and an in-memory one; one compliance suite
 * per interface runs against both.
 */

/** Callbacks a socket's owner attaches. They are invoked on the event loop, never re-entrantly. */
export interface SocketHandlers {
  /** Bytes arrived. The chunk is only valid during the call unless copied. */
  data(chunk: Uint8Array): void;
  /** The write buffer drained after `write` returned false. */
  drain?(): void;
  /** The socket closed; `err` is set when it closed abnormally (reset, error). Called exactly once. */
  close(err?: Error): void;
}

/** One end of a reliable, ordered, bidirectional byte stream. */
export interface Socket {
  /** Address of this end, `host:port` for TCP. */
  readonly localAddress: string;
  /** Address of the other end. */
  readonly remoteAddress: string;
  /** Whether the socket has closed (locally or remotely). */
  readonly closed: boolean;
  /**
   * Attaches the handlers; bytes that arrived before are delivered right after.
   * Call once.
   */
  attach(handlers: SocketHandlers): void;
  /**
   * Queues bytes for sending. Returns false when the caller should wait for
   * `drain` before writing more (the bytes are still queued). Writing to a
   * closed socket is a silent no-op: `close` has been or will be reported.
   */
  write(chunk: Uint8Array): boolean;
  /** Flushes queued bytes, then closes (TCP FIN). */
  end(): void;
  /** Closes at once, dropping queued bytes (TCP RST when `err` is given). */
  destroy(err?: Error): void;
}

export interface DialOptions {
  signal?: AbortSignal;
  /** Give up connecting after this long. Default 5000 ms (Go Micro's dial timeout). */
  timeoutMs?: number;
}

export interface ListenOptions {
  signal?: AbortSignal;
}

export interface Listener {
  /** The bound address, with the real port when 0 was asked for. */
  readonly address: string;
  /** Stops accepting; established sockets are left to their owners. Idempotent. */
  close(): Promise<void>;
}

/**
 * Dials and accepts reliable byte streams.
 *
 * Failures are MeshErrors with stable codes: `CONNECTION_REFUSED` when the
 * peer's host answered that nothing listens (TCP RST / ECONNREFUSED: proof the
 * process is gone, which SWIM uses), `TIMEOUT` when nothing answered in time,
 * `UNAVAILABLE` for other network errors, `CANCELLED` when the signal aborted.
 */
export interface Transport {
  /** Implementation name, e.g. `tcp` or `memory`. */
  readonly name: string;
  /** Listens on `address` (`host:port`; port 0 picks a free one) and hands each accepted socket to `onSocket`. */
  listen(address: string, onSocket: (socket: Socket) => void, opts?: ListenOptions): Promise<Listener>;
  /** Connects to `address`. */
  dial(address: string, opts?: DialOptions): Promise<Socket>;
}

/** A best-effort datagram endpoint: packets may be lost, duplicated or reordered. */
export interface PacketTransport {
  /** The bound address (`host:port`). */
  readonly address: string;
  /** Largest packet `send` accepts, in bytes. */
  readonly maxPacketBytes: number;
  /**
   * Sends one packet. Never throws for network reasons: a lost packet is
   * indistinguishable from a dropped one. Oversized packets are dropped and counted.
   */
  send(to: string, packet: Uint8Array): void;
  /** Sets the receiver. Packets arriving before it is set are dropped. */
  onPacket(handler: (from: string, packet: Uint8Array) => void): void;
  /**
   * Optional: sends like `send`, on a channel that notices a refusal (ICMP
   * port unreachable: the host is up and nothing listens on that port) and
   * then calls `refused` once. Answers from `to` on the channel reach the
   * `onPacket` handler. The channel lives until its `close()` or the endpoint's.
   * Without it, or when ICMP is filtered, a refusal looks like a lost packet.
   */
  sendWatched?(to: string, packet: Uint8Array, refused: () => void): PacketWatch;
  /** Unbinds. Idempotent. */
  close(): Promise<void>;
}

/** A channel opened by `PacketTransport.sendWatched`. */
export interface PacketWatch {
  /** Stops watching (no `refused` call after this). Idempotent. */
  close(): void;
}

export interface PacketBindOptions {
  signal?: AbortSignal;
}

/** Creates packet endpoints; the UDP and in-memory implementations provide one. */
export interface PacketNetwork {
  bind(address: string, opts?: PacketBindOptions): Promise<PacketTransport>;
}
