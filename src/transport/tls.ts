/**
 * Mutual TLS for TcpTransport: TLS 1.3 only, each side presents a
 * certificate and checks the peer's against the mesh's CA.
 *
 * Host names are not checked: nodes are dialled by the IP the registry
 * holds, and the CA is private to the mesh, so a node's identity is "holds
 * a certificate this CA signed". A certificate that chains to the CA is
 * accepted whatever names it carries.
 *
 * node:tls is imported at the first listen or dial that asks for TLS, so
 * importing micromesh does not load it.
 */
import type * as Tls from 'node:tls';
import type net from 'node:net';
import { MeshError } from '../errors/index.ts';

/** PEM texts (or Buffers of them) of the mesh's CA certificate and this node's certificate and private key. */
export interface TlsOptions {
  ca: string | Buffer;
  cert: string | Buffer;
  key: string | Buffer;
}

type TlsModule = typeof Tls;

/** Checks that each field holds PEM text; names the field otherwise. Does not load node:tls. */
export function validateTls(tls: unknown, field = 'tls'): TlsOptions {
  if (typeof tls !== 'object' || tls === null) throw new MeshError('INVALID_CONFIG', `${field} must be { ca, cert, key } (PEM), got ${typeof tls}`);
  const o = tls as Record<string, unknown>;
  for (const k of ['ca', 'cert', 'key'] as const) {
    const v = o[k];
    const text = typeof v === 'string' ? v : Buffer.isBuffer(v) ? v.toString('latin1') : undefined;
    if (text === undefined || !text.includes('-----BEGIN ')) {
      throw new MeshError('INVALID_CONFIG', `${field}.${k} must be PEM text (a string or Buffer with "-----BEGIN ..."), got ${v === undefined ? 'nothing' : typeof v}`);
    }
  }
  return { ca: o.ca as string | Buffer, cert: o.cert as string | Buffer, key: o.key as string | Buffer };
}

/** Loaded TLS state shared by a transport's listens and dials. */
export interface TlsContext {
  tls: TlsModule;
  /** The client side's context (CA, certificate and key), built once. */
  client: Tls.SecureContext;
  options: TlsOptions;
}

/** Imports node:tls and builds the context; a key that does not match its certificate, or unreadable PEM, is INVALID_CONFIG. */
export async function loadTls(options: TlsOptions): Promise<TlsContext> {
  const tls = await import('node:tls');
  try {
    const client = tls.createSecureContext({ ...options, minVersion: 'TLSv1.3' });
    return { tls, client, options };
  } catch (err) {
    throw new MeshError('INVALID_CONFIG', `tls: ${(err as Error).message}`, { cause: err });
  }
}

/** A TLS server over `onSecure`: only sockets whose certificate chains to the CA get there. */
export function tlsServer(ctx: TlsContext, handshakeTimeoutMs: number, onSecure: (socket: net.Socket) => void): net.Server {
  const server = ctx.tls.createServer({
    ...ctx.options, minVersion: 'TLSv1.3', requestCert: true, rejectUnauthorized: true, handshakeTimeout: handshakeTimeoutMs, noDelay: true,
  }, onSecure);
  // A peer without a good certificate: Node has already destroyed its socket; nothing to do but not crash.
  server.on('tlsClientError', () => {});
  return server;
}

/**
 * Dials with TLS. Resolves once the server has accepted this side's
 * certificate too: in TLS 1.3 the client's handshake completes before the
 * server has checked the client's certificate, and the server's session
 * ticket is the first sign that it did (a rejection arrives as an alert
 * instead). Handshake failures are TLS_REJECTED; failures to connect at all
 * keep their TCP codes (`onTcpError`).
 */
export function tlsDial(ctx: TlsContext, host: string, port: number, address: string, onTcpError: (err: NodeJS.ErrnoException) => MeshError): {
  socket: Tls.TLSSocket; ready: Promise<void>;
} {
  const socket = ctx.tls.connect({
    host, port, secureContext: ctx.client, minVersion: 'TLSv1.3', rejectUnauthorized: true,
    // Identity is the CA's signature, not a name: see the module comment.
    checkServerIdentity: () => undefined,
  });
  const ready = new Promise<void>((resolve, reject) => {
    let connected = false;
    const cleanup = (): void => {
      socket.off('connect', onConnect);
      socket.off('session', onSession);
      socket.off('error', onError);
      socket.off('close', onClose);
    };
    const onConnect = (): void => {
      connected = true;
    };
    const onSession = (): void => {
      cleanup();
      socket.on('error', ignore);
      // 'session' is emitted from inside OpenSSL's read: a write made before
      // that returns (even from a microtask) corrupts the stream (bad record MAC).
      // Not a timer (nothing for a Clock to virtualise): the next loop iteration.
      // eslint-disable-next-line no-restricted-globals
      setImmediate(resolve);
    };
    const onError = (err: NodeJS.ErrnoException): void => {
      cleanup();
      socket.on('error', ignore);
      reject(connected ? rejected(address, err) : onTcpError(err));
    };
    const onClose = (): void => {
      cleanup();
      socket.on('error', ignore);
      reject(rejected(address, new Error('closed during the TLS handshake')));
    };
    socket.once('connect', onConnect);
    socket.once('session', onSession);
    socket.once('error', onError);
    socket.once('close', onClose);
  });
  return { socket, ready };
}

/** A socket given up on may still report errors; with no listener they would crash the process. */
function ignore(): void {}

function rejected(address: string, err: NodeJS.ErrnoException): MeshError {
  return new MeshError('TLS_REJECTED', `${address}: TLS handshake failed (${err.code ?? err.message})`, { cause: err });
}
