/**
 * `micromesh/api`: the API gateway as a library (`micromesh api` runs it),
 * and the helpers services use to declare HTTP routes.
 */
export { createApiGateway, type ApiGateway, type ApiGatewayOptions } from './gateway.ts';
export {
  routes, rest, httpNode, HTTP_ROUTES_METADATA, HTTP_ADDRESS_METADATA, resolvePath,
  type HttpConfig, type HttpConfigInput, type CorsConfig,
} from '../http/index.ts';
