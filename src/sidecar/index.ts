/**
 * `micromesh/sidecar`: the sidecar as a library (`micromesh sidecar` runs
 * it). It makes an HTTP app in any language a mesh member: calls in become
 * HTTP requests to the app, and the app reaches the mesh over HTTP.
 *
 * @example
 * import { createService } from '../index.ts';
 * import { createSidecar, httpNode } from 'micromesh/sidecar';
 * const service = createService({ name: 'shop', nodeMetadata: httpNode('127.0.0.1:3000') });
 * const sidecar = createSidecar({ service, appAddress: '127.0.0.1:3000', healthUrl: 'http://127.0.0.1:3000/health' });
 * await sidecar.start();
 */
export { createSidecar, type Sidecar, type SidecarOptions } from './sidecar.ts';
export { resolveSidecarConfig, SIDECAR_DEFAULTS, type SidecarConfig, type SidecarConfigInput } from './config.ts';
export { parseDurationMs } from './duration.ts';
export { parseDescription, type AppEndpoint } from './describe.ts';
export * from './names.ts';
export { httpNode, HTTP_ADDRESS_METADATA, type HttpConfig, type HttpConfigInput } from '../http/index.ts';
