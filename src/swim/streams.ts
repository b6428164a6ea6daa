import type { Clock } from '../clock/types.ts';
import { MeshError, isMeshError } from '../errors/index.ts';
import type { Listener, Socket } from '../transport/types.ts';
import type { ShellContext } from './shell.ts';
import { MessageType, type MemberEntry, type SwimMessage } from './wire.ts';

/**
 * SWIM over reliable streams: push-pull (full state exchange, also used to
 * join) and the TCP fallback ping. Each stream carries one frame each way:
 *
 *   u32 big-endian length L ‖ L bytes of envelope (same as a UDP packet, one message)
 *
 * The envelope's cluster name (and key, when encrypting) is checked like a
 * packet's, so a mesh never merges state with another over streams either.
 */

/** How a TCP ping ended. Only a refused dial is `refused`; timeouts are `failed`. */
export type TcpPingResult = 'ok' | 'refused' | 'failed';

const FRAME_HEADER_BYTES = 4;
/** A ping or ack frame is tiny; anything larger on a ping stream is garbage. */
const PING_FRAME_MAX_BYTES = 4096;

/** Prefixes `packet` with its length. */
export function frame(packet: Uint8Array): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER_BYTES + packet.length);
  new DataView(out.buffer).setUint32(0, packet.length);
  out.set(packet, FRAME_HEADER_BYTES);
  return out;
}

/**
 * Attaches to `socket` and resolves with the first complete frame. Rejects
 * with `FRAME_TOO_LARGE` past `maxBytes` (before buffering it), `TIMEOUT` after
 * `timeoutMs`, `CONNECTION_LOST` if the stream ends first.
 */
export function receiveFrame(socket: Socket, maxBytes: number, timeoutMs: number, clock: Clock): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const header = new Uint8Array(FRAME_HEADER_BYTES);
    let headerHave = 0;
    let body: Uint8Array | undefined;
    let bodyHave = 0;
    let done = false;
    const finish = (err: Error | undefined, result?: Uint8Array): void => {
      if (done) return;
      done = true;
      clock.clearTimeout(timer);
      if (err) reject(err);
      else resolve(result!);
    };
    const timer = clock.setTimeout(() => finish(new MeshError('TIMEOUT', `no complete frame within ${timeoutMs} ms`)), timeoutMs);
    socket.attach({
      data(chunk) {
        let i = 0;
        while (i < chunk.length && !done) {
          if (body === undefined) {
            const n = Math.min(FRAME_HEADER_BYTES - headerHave, chunk.length - i);
            header.set(chunk.subarray(i, i + n), headerHave);
            headerHave += n;
            i += n;
            if (headerHave < FRAME_HEADER_BYTES) continue;
            const length = new DataView(header.buffer).getUint32(0);
            if (length > maxBytes) {
              finish(new MeshError('FRAME_TOO_LARGE', `frame of ${length} bytes exceeds the limit of ${maxBytes}`));
              return;
            }
            body = new Uint8Array(length);
            if (length === 0) finish(undefined, body);
          } else {
            const n = Math.min(body.length - bodyHave, chunk.length - i);
            body.set(chunk.subarray(i, i + n), bodyHave);
            bodyHave += n;
            i += n;
            if (bodyHave === body.length) finish(undefined, body);
          }
        }
      },
      close(err) {
        finish(err ?? new MeshError('CONNECTION_LOST', 'stream closed before a complete frame'));
      },
    });
  });
}

/** The stream side of a node: serves pings and push-pulls, and initiates them. */
export class StreamIO {
  private readonly sh: ShellContext;
  private listener: Listener | undefined;
  private readonly sockets = new Set<Socket>();
  private inbound = 0;

  constructor(shell: ShellContext) {
    this.sh = shell;
  }

  /** Listens on `address`; returns the listener's bound address. */
  async listen(address: string, signal?: AbortSignal): Promise<string> {
    this.listener = await this.sh.streams.listen(address, (s) => this.accept(s), { signal });
    return this.listener.address;
  }

  /** Closes the listener and every open stream. */
  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await this.listener?.close();
  }

  /** Pings `target` at `address` over a stream; `refused` only when the dial itself was refused. */
  async tcpPing(address: string, seq: number, target: string, timeoutMs: number): Promise<TcpPingResult> {
    const sh = this.sh;
    let socket: Socket;
    try {
      socket = await sh.streams.dial(address, { timeoutMs: Math.max(1, timeoutMs), signal: sh.lifetime });
    } catch (err) {
      return isMeshError(err) && err.code === 'CONNECTION_REFUSED' ? 'refused' : 'failed';
    }
    this.sockets.add(socket);
    try {
      const reply = receiveFrame(socket, PING_FRAME_MAX_BYTES, Math.max(1, timeoutMs), sh.clock);
      this.write(socket, sh.wire.ping(seq, target, sh.state.self.id));
      const msg = this.openFrame(await reply);
      return msg !== undefined && msg.type === MessageType.Ack && msg.seq === seq ? 'ok' : 'failed';
    } catch {
      return 'failed';
    } finally {
      this.sockets.delete(socket);
      socket.destroy();
    }
  }

  /**
   * Exchanges full state with the node at `address` and merges its answer.
   * `join` marks a join (informational on the wire, as in memberlist).
   * Throws MeshError (the dial's code, `TIMEOUT`, `PROTOCOL_ERROR`, ...).
   */
  async pushPull(address: string, join: boolean, signal?: AbortSignal): Promise<void> {
    const sh = this.sh;
    const abort = signal ? AbortSignal.any([signal, sh.lifetime]) : sh.lifetime;
    const socket = await sh.streams.dial(address, { timeoutMs: sh.cfg.streamTimeoutMs, signal: abort });
    this.sockets.add(socket);
    try {
      const reply = receiveFrame(socket, sh.cfg.pushPullMaxBytes, sh.cfg.streamTimeoutMs, sh.clock);
      this.write(socket, this.localState(join));
      const raw = await reply;
      const msg = this.openFrame(raw);
      if (msg === undefined || msg.type !== MessageType.PushPull) {
        throw new MeshError('PROTOCOL_ERROR', `${address} did not answer with a push-pull state (wrong cluster or key?)`);
      }
      if (!sh.running) throw new MeshError('NOT_RUNNING', 'the node stopped during push-pull');
      sh.state.mergeRemote(msg.members, sh.clock.now());
      sh.afterChange();
    } finally {
      this.sockets.delete(socket);
      socket.end();
    }
  }

  private accept(socket: Socket): void {
    const sh = this.sh;
    if (!sh.running || this.inbound >= sh.cfg.maxConcurrentPushPulls) {
      if (sh.running) sh.counters.inc('pushPullsRefused');
      socket.destroy();
      return;
    }
    this.inbound++;
    this.sockets.add(socket);
    this.serve(socket)
      .catch((err: unknown) => {
        sh.counters.inc('internalErrors');
        sh.log.error('error while serving a stream', { from: socket.remoteAddress, err: String(err) });
        socket.destroy();
      })
      .finally(() => {
        this.inbound--;
        this.sockets.delete(socket);
      });
  }

  private async serve(socket: Socket): Promise<void> {
    const sh = this.sh;
    let raw: Uint8Array;
    try {
      raw = await receiveFrame(socket, sh.cfg.pushPullMaxBytes, sh.cfg.streamTimeoutMs, sh.clock);
    } catch (err) {
      sh.counters.inc(isMeshError(err) && err.code === 'FRAME_TOO_LARGE' ? 'droppedFrameTooLarge' : 'streamErrors');
      sh.limited.debug('stream-read', 'dropped an inbound stream', { from: socket.remoteAddress, err: String(err) });
      socket.destroy();
      return;
    }
    const msg = this.openFrame(raw);
    if (msg === undefined || !sh.running) {
      socket.destroy();
      return;
    }
    if (msg.type === MessageType.Ping) {
      if (msg.target !== sh.state.self.id) {
        sh.counters.inc('misaddressedPings');
        socket.destroy();
        return;
      }
      this.write(socket, sh.wire.ack(msg.seq));
      socket.end();
      return;
    }
    if (msg.type !== MessageType.PushPull) {
      sh.counters.inc('droppedMalformed');
      socket.destroy();
      return;
    }
    // Answer with our state as it was before merging theirs, as memberlist does.
    this.write(socket, this.localState(false));
    socket.end();
    sh.counters.inc('pushPullsServed');
    sh.state.mergeRemote(msg.members, sh.clock.now());
    sh.afterChange();
  }

  /** Opens and decodes a frame; counts and returns undefined when it is bad. */
  private openFrame(raw: Uint8Array): SwimMessage | undefined {
    const sh = this.sh;
    sh.counters.inc('streamBytesReceived', raw.length + FRAME_HEADER_BYTES);
    const body = sh.envelope.open(raw);
    if (typeof body === 'string') {
      sh.counters.inc(DROP_COUNTER[body]);
      sh.limited.warn(`stream-${body}`, `dropped a stream frame: ${body}`);
      return undefined;
    }
    const msg = sh.wire.decodeOne(body);
    if (msg === 'malformed' || msg === 'unknown') {
      sh.counters.inc(msg === 'unknown' ? 'unknownMessages' : 'droppedMalformed');
      return undefined;
    }
    return msg;
  }

  private localState(join: boolean): Uint8Array {
    const rows: MemberEntry[] = [...this.sh.state.table.values()];
    return this.sh.wire.pushPull(join, rows);
  }

  private write(socket: Socket, message: Uint8Array): void {
    const sh = this.sh;
    const out = frame(sh.envelope.seal([message], message.length));
    if (out.length - FRAME_HEADER_BYTES > sh.cfg.pushPullMaxBytes) {
      sh.limited.warn('state-too-large', 'our state exceeds pushPullMaxBytes; peers will refuse it', { bytes: out.length });
    }
    sh.counters.inc('streamBytesSent', out.length);
    socket.write(out);
  }
}

/** Counter for each envelope rejection reason. */
export const DROP_COUNTER = {
  malformed: 'droppedMalformed',
  badVersion: 'droppedBadVersion',
  wrongCluster: 'droppedWrongCluster',
  unencrypted: 'droppedUnencrypted',
  undecryptable: 'droppedUndecryptable',
} as const;
