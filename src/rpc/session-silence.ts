import type { Clock } from '../clock/types.ts';
import { MeshError } from '../errors/index.ts';
import type { LocalCall, UnaryCall } from './calls.ts';
import type { RpcConfig } from './config.ts';
import { SILENCE_ERROR_ID, SilenceWatch } from './silence.ts';
import type { RpcStats } from './stats.ts';

/** What a connection's silence watch acts on. */
export interface SilentConnection {
  readonly remoteAddress: string;
  /** Calls this side opened, by stream id. */
  readonly local: ReadonlyMap<number, LocalCall | UnaryCall>;
  isClosed(): boolean;
  ping(): void;
  /** Tells the pool (the selector steers away while silent). */
  onSilence(on: boolean): void;
  /** Ends the connection with `err` (nothing more will come from the peer). */
  kill(err: MeshError): void;
}

/**
 * A session's SilenceWatch: calls waiting on a silent peer fail at once with
 * a retryable UNAVAILABLE (id SILENCE_ERROR_ID, so they go elsewhere), and a
 * peer silent past `silenceTimeoutMs` ends the connection. A stream whose
 * reader has unread messages is waiting on us, not on the peer (it is out of
 * credit and rightly quiet), so it does not count.
 */
export function watchSilence(c: SilentConnection, o: { clock: Clock; config: RpcConfig; stats: RpcStats }): SilenceWatch {
  return new SilenceWatch({
    isClosed: () => c.isClosed(),
    pendingCalls: () => {
      let n = 0;
      for (const call of c.local.values()) if (!('incoming' in call && call.incoming.buffered > 0)) n++;
      return n;
    },
    ping: () => c.ping(),
    silent: (on, quietMs) => {
      c.onSilence(on);
      if (!on) return;
      o.stats.inc('silentPeers');
      // Calls waiting here would each wait out their deadline: they fail now with a retryable code and go elsewhere.
      const err = new MeshError('UNAVAILABLE', `no answer from ${c.remoteAddress} for ${Math.round(quietMs)} ms (rpc.silenceSuspectMs); the call was cancelled there`, { id: SILENCE_ERROR_ID });
      for (const call of [...c.local.values()]) call.giveUp(err);
    },
    dead: (quietMs) => {
      o.stats.inc('silenceTimeouts');
      c.kill(new MeshError('CONNECTION_LOST', `connection to ${c.remoteAddress}: nothing received for ${Math.round(quietMs)} ms with calls waiting (rpc.silenceTimeoutMs)`));
    },
  }, o.clock, o.config);
}
