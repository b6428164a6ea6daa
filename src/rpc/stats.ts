import { Counters } from '../metrics/counters.ts';

/** Counters kept by the RPC layer (client, server and connections together). */
export const RPC_COUNTERS = [
  'bytesRead', 'bytesWritten', 'connectionsOpened', 'connectionsAccepted', 'connectionsClosed',
  'callsStarted', 'callsSucceeded', 'callsFailed', 'retries', 'timeouts', 'cancellations',
  'requestsServed', 'handlerErrors', 'framesOversized', 'protocolErrors', 'lateFrames',
  'streamsRefused', 'keepaliveTimeouts', 'decodeErrors', 'streamMessagesSent', 'streamMessagesReceived',
  /** Peers reported silent (calls waiting, nothing received for rpc.silenceSuspectMs). */
  'silentPeers',
  /** Connections closed because nothing was received for rpc.silenceTimeoutMs while calls waited. */
  'silenceTimeouts',
  /** Second attempts of hedged calls (CallOptions.hedge) sent to another node. */
  'hedges',
  /** Connections closed after carrying no stream for rpc.idleTimeoutMs (counted by the side that began it). */
  'idleClosed',
] as const;

export type RpcCounter = (typeof RPC_COUNTERS)[number];
export type RpcStats = Counters<RpcCounter>;

export function createRpcStats(): RpcStats {
  return new Counters(RPC_COUNTERS);
}
