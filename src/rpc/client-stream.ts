import type { Codec } from '../codec/types.ts';
import { MeshError } from '../errors/index.ts';
import type { LocalCall } from './calls.ts';
import { FrameType } from './frame.ts';
import type { ClientStream } from './types.ts';

/** The caller's handle on a stream: encodes on send, decodes on receive. */
export class ClientStreamImpl<Req, Res> implements ClientStream<Req, Res> {
  private readonly call: LocalCall;
  private readonly codec: Codec;

  constructor(call: LocalCall, codec: Codec) {
    this.call = call;
    this.codec = codec;
  }

  async send(message: Req, opts: { signal?: AbortSignal } = {}): Promise<void> {
    const call = this.call;
    if (call.sentEnd) throw new MeshError('INVALID_ARGUMENT', 'send after end() or on a server stream', { id: 'micromesh.client' });
    const bytes = this.codec.encode(message);
    const limit = call.session.peerMaxFrameBytes;
    if (bytes.length > limit) {
      throw new MeshError('FRAME_TOO_LARGE', `stream message of ${bytes.length} bytes exceeds the limit of ${limit} bytes`, { id: 'micromesh.client' });
    }
    const gate = call.sendGate!;
    await gate.acquire(opts.signal);
    if (call.sentEnd) throw new MeshError('INVALID_ARGUMENT', 'send after end()', { id: 'micromesh.client' });
    gate.consume(bytes.length);
    call.session.writer.frame(FrameType.Data, 0, call.id, bytes);
    call.session.opts.stats.inc('streamMessagesSent');
    gate.pump();
  }

  end(): void {
    const call = this.call;
    if (call.sentEnd) return;
    if (!call.session.closed) call.session.writer.frame(FrameType.End, 0, call.id);
    call.markSentEnd();
  }

  cancel(reason = 'cancelled by the caller'): void {
    this.call.cancel('CANCELLED', reason);
  }

  async response(): Promise<Res> {
    this.end();
    const r = await this.call.incoming!.next();
    if (r.done) throw new MeshError('PROTOCOL_ERROR', 'stream ended without a response', { id: 'micromesh.client' });
    return this.codec.decode(r.value) as Res;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Res> {
    const incoming = this.call.incoming!;
    try {
      for (;;) {
        const r = await incoming.next();
        if (r.done) return;
        yield this.codec.decode(r.value) as Res;
      }
    } finally {
      // Breaking out of `for await` early abandons the stream.
      if (!incoming.done) this.call.cancel('CANCELLED', 'consumer stopped reading');
    }
  }
}
