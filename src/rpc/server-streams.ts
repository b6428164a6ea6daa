import type { Codec } from '../codec/types.ts';
import { MeshError } from '../errors/index.ts';
import type { RemoteCall } from './calls.ts';
import type { MessageQueue } from './flow.ts';

export function isAsyncIterable(v: unknown): v is AsyncIterable<unknown> {
  return v !== null && typeof v === 'object' && typeof (v as Record<symbol, unknown>)[Symbol.asyncIterator] === 'function';
}

/** The caller's streamed messages, decoded, as the handler's input. */
export async function* decodeInput(queue: MessageQueue, codec: Codec): AsyncGenerator<unknown> {
  for await (const bytes of queue) yield codec.decode(bytes);
}

/**
 * Sends a handler's AsyncIterable as the response stream, waiting for
 * flow-control credit before each message so a slow reader slows the
 * handler down instead of growing a buffer. Stops the iterable when the
 * caller cancels.
 */
export async function streamResponse(call: RemoteCall, codec: Codec, source: AsyncIterable<unknown>, serviceName: string,
  fail: (err: unknown) => void): Promise<void> {
  const it = source[Symbol.asyncIterator]();
  const gate = call.sendGate!;
  try {
    for (;;) {
      const r = await it.next();
      if (call.finished) break;
      if (r.done) {
        call.end();
        return;
      }
      const bytes = codec.encode(r.value);
      const limit = call.session.peerMaxFrameBytes;
      if (bytes.length > limit) {
        call.reject(new MeshError('FRAME_TOO_LARGE', `stream message of ${bytes.length} bytes exceeds the limit of ${limit} bytes`, { id: serviceName }));
        break;
      }
      await gate.acquire();
      if (call.finished) break;
      gate.consume(bytes.length);
      call.respond(bytes, false);
      gate.pump();
    }
  } catch (err) {
    if (!call.finished) fail(err);
  }
  // The caller went away or the stream failed: let the generator run its finally blocks.
  await it.return?.().catch(() => {});
}
