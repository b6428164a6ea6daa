// A cross-process Membership for tests only (until the SWIM mesh lands):
// the test process runs this coordinator; each peer process connects over
// TCP on 127.0.0.1 and exchanges newline-delimited JSON. The coordinator
// relays every record change to the other peers and, when a peer's
// connection drops (SIGKILL included), tells the survivors it left
// ('dead'). The same connection carries the test's commands to the peer
// and the peer's reports back. Brokers never see any of this: they get a
// Membership (remote-membership.ts).
import { createServer, type Server, type Socket } from 'node:net';
import { createInterface } from 'node:readline';

export interface View {
  id: string;
  version: number;
  data: Record<string, unknown>;
}

interface Conn {
  socket: Socket;
  view: View | undefined;
}

export type Report = Record<string, unknown> & { t: string; from: string };

export class Coordinator {
  private readonly server: Server;
  private readonly conns = new Set<Conn>();
  private readonly replies = new Map<number, (v: Report) => void>();
  private rid = 0;
  readonly reports: Report[] = [];
  private readonly reportListeners = new Set<(r: Report) => void>();
  address = '';

  constructor() {
    this.server = createServer((socket) => this.accept(socket));
  }

  async listen(): Promise<void> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    const a = this.server.address() as { port: number };
    this.address = `127.0.0.1:${a.port}`;
  }

  async close(): Promise<void> {
    for (const c of this.conns) c.socket.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  /** Current records of the connected peers. */
  views(): View[] {
    return [...this.conns].map((c) => c.view).filter((v): v is View => v !== undefined);
  }

  onReport(fn: (r: Report) => void): () => void {
    this.reportListeners.add(fn);
    return () => this.reportListeners.delete(fn);
  }

  /** Sends a command to peer `id` and resolves with its reply. */
  command(id: string, cmd: Record<string, unknown>, timeoutMs = 20_000): Promise<Report> {
    const conn = [...this.conns].find((c) => c.view?.id === id);
    if (conn === undefined) return Promise.reject(new Error(`no peer ${id}`));
    const rid = ++this.rid;
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`peer ${id} did not answer ${JSON.stringify(cmd)}`)), timeoutMs);
      this.replies.set(rid, (v) => {
        clearTimeout(t);
        resolve(v);
      });
      send(conn.socket, { t: 'cmd', rid, ...cmd });
    });
  }

  private accept(socket: Socket): void {
    const conn: Conn = { socket, view: undefined };
    this.conns.add(conn);
    socket.on('error', () => {});
    socket.on('close', () => {
      this.conns.delete(conn);
      if (conn.view !== undefined) this.broadcast(conn, { t: 'leave', member: conn.view, reason: 'dead' });
    });
    // readline re-emits its input's errors: a SIGKILLed peer resets its connection.
    createInterface({ input: socket }).on('error', () => {}).on('line', (line) => {
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(line);
      } catch {
        return;
      }
      this.handle(conn, msg);
    });
  }

  private handle(conn: Conn, msg: Record<string, unknown>): void {
    if (msg.t === 'hello') {
      conn.view = { id: String(msg.id), version: 1, data: (msg.data ?? {}) as Record<string, unknown> };
      for (const other of this.conns) if (other !== conn && other.view) send(conn.socket, { t: 'join', member: other.view });
      this.broadcast(conn, { t: 'join', member: conn.view });
    } else if (msg.t === 'set' && conn.view !== undefined) {
      conn.view = { id: conn.view.id, version: Number(msg.version), data: msg.data as Record<string, unknown> };
      this.broadcast(conn, { t: 'update', member: conn.view });
    } else if (msg.t === 'reply') {
      const r = this.replies.get(Number(msg.rid));
      this.replies.delete(Number(msg.rid));
      r?.({ ...msg, t: 'reply', from: conn.view?.id ?? '?' });
    } else {
      const report = { ...msg, from: conn.view?.id ?? '?' } as Report;
      this.reports.push(report);
      for (const l of this.reportListeners) l(report);
    }
  }

  private broadcast(from: Conn, msg: unknown): void {
    for (const c of this.conns) if (c !== from && c.view !== undefined) send(c.socket, msg);
  }
}

export function send(socket: Socket, msg: unknown): void {
  if (!socket.destroyed) socket.write(`${JSON.stringify(msg)}\n`);
}
