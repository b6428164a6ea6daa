/**
 * The HTTP layer `micromesh api` and `micromesh sidecar` share: one fastify
 * server with limits, CORS, WebSocket, error bodies and drain; the rpc
 * handler and `/rpc`; Server-Sent Events; the live catalog of declared
 * routes and HTTP services. Built on the public surface only.
 */
export { resolveHttpConfig, HTTP_DEFAULTS, CORS_DEFAULTS, DEFAULT_METADATA_HEADERS, type HttpConfig, type HttpConfigInput, type CorsConfig } from './config.ts';
export { HttpServer, type HttpServerDeps, type OpenStream } from './server.ts';
export { Invoker, type CallTarget } from './calls.ts';
export { Catalog, type CatalogOptions, type RouteMatch } from './catalog.ts';
export { registerRpcRoutes, rpcBody, type RpcRoutesOptions } from './rpc.ts';
export { registerEvents, publishBody } from './events.ts';
export { accessPolicy, type AccessRules } from './access.ts';
export { resolvePath, firstSegment, titleCase, withNamespace, type ResolvedPath } from './resolve.ts';
export { routes, rest, httpNode, parseRoute, routesOf, HTTP_ROUTES_METADATA, HTTP_ADDRESS_METADATA, HTTP_METHODS, type RouteSpec, type HttpMethod } from './routes.ts';
export { headersToMetadata, metadataToHeaders, headerRules, requestTimeoutMs, type HeaderRules } from './metadata.ts';
export { decodeBody, encodeBody, jsonSafe, formatOf, parseJson, mergeRequest, responseFormat, chooseProtocol, JSON_TYPE, CBOR_TYPE, type Format } from './body.ts';
export { httpStatus, errorBody } from './errors.ts';
export { SseWriter } from './sse.ts';
export { sendFrame, closeWithError } from './ws.ts';
export { HttpProxy } from './proxy.ts';
