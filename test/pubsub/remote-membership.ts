// The peer-process side of the test Membership (see coordinator.ts).
import { connect, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import type { MemberView, Membership, MembershipEvent, MembershipListener } from '../../src/membership/types.ts';
import { send } from './coordinator.ts';

export class RemoteMembership implements Membership {
  readonly localId: string;
  private record: MemberView;
  private readonly view = new Map<string, MemberView>();
  private readonly listeners = new Set<MembershipListener>();
  private readonly socket: Socket;
  /** Commands from the test; set by the peer program. */
  onCommand: (cmd: Record<string, unknown>) => Promise<Record<string, unknown>> = async () => ({});

  private constructor(socket: Socket, id: string, data: Record<string, unknown>) {
    this.socket = socket;
    this.localId = id;
    this.record = { id, version: 1, data };
  }

  static async connect(address: string, id: string, data: Record<string, unknown>): Promise<RemoteMembership> {
    const [host, port] = address.split(':');
    const socket = connect(Number(port), host!);
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    socket.setNoDelay(true);
    const m = new RemoteMembership(socket, id, data);
    createInterface({ input: socket }).on('error', () => {}).on('line', (line) => m.onLine(line));
    socket.on('error', () => {});
    socket.on('close', () => process.exit(0)); // the test is over
    send(socket, { t: 'hello', id, data });
    return m;
  }

  local(): MemberView {
    return this.record;
  }

  setLocal(key: string, value: unknown): void {
    const data: Record<string, unknown> = { ...this.record.data };
    if (value === undefined) delete data[key];
    else data[key] = value;
    this.record = { id: this.localId, version: this.record.version + 1, data };
    send(this.socket, { t: 'set', version: this.record.version, data });
  }

  members(): MemberView[] {
    return [...this.view.values()];
  }

  member(id: string): MemberView | undefined {
    return this.view.get(id);
  }

  subscribe(listener: MembershipListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  reportUnreachable(id: string, refused: boolean): void {
    send(this.socket, { t: 'unreachable', id, refused });
  }

  /** Sends a report to the test. */
  report(msg: Record<string, unknown>): void {
    send(this.socket, msg);
  }

  private onLine(line: string): void {
    const msg = JSON.parse(line) as Record<string, any>;
    if (msg.t === 'cmd') {
      void this.onCommand(msg).then(
        (r) => send(this.socket, { t: 'reply', rid: msg.rid, ...r }),
        (err: unknown) => send(this.socket, { t: 'reply', rid: msg.rid, error: String(err) }),
      );
      return;
    }
    const ev = { type: msg.t, member: msg.member, reason: msg.reason } as MembershipEvent;
    if (ev.type === 'leave') this.view.delete(ev.member.id);
    else this.view.set(ev.member.id, ev.member);
    for (const l of [...this.listeners]) l(ev);
  }
}
