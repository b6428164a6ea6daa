import { MeshError } from '../index.ts';
import { errorBody, type HttpProxy, type HttpServer } from '../http/index.ts';

/**
 * micro web's proxy: a service that serves HTTP itself (node metadata
 * `http-address`) is reachable under `/<service>/`, WebSocket included.
 * The dashboard's own paths (`/`, `/assets/`, `/api/`, `/rpc`) win.
 */
export function registerProxy(http: HttpServer, proxy: HttpProxy): void {
  const notFound = (method: string, url: string): MeshError =>
    new MeshError('NOT_FOUND', `no route for ${method} ${url.split('?')[0]}`, { id: http.deps.errorId });
  const handler = async (req: Parameters<HttpProxy['intercept']>[0], reply: Parameters<HttpProxy['intercept']>[1]): Promise<unknown> => {
    if (proxy.intercept(req, reply)) return reply;
    throw notFound(req.method, req.url);
  };
  http.install((app) => app.route({ method: http.methods.filter((m) => m !== 'GET'), url: '/*', handler }));
  http.installWs((app) => app.route({
    method: 'GET', url: '/*', exposeHeadRoute: false, handler,
    wsHandler: (socket, req) => {
      if (proxy.interceptWs(socket, req)) return;
      socket.send(JSON.stringify({ error: errorBody(notFound('GET', req.url)) }));
      socket.close(1008, 'NOT_FOUND');
    },
  }));
}
