/**
 * `micromesh web`: the dashboard (docs/web.md). Built on the public surface
 * and the HTTP layer the API gateway uses; the browser app (src/web/ui) is
 * bundled at build time and served by the node itself.
 */
export { createWebDashboard, type WebDashboard, type WebDashboardOptions } from './dashboard.ts';
export { serviceSource, type MeshSource } from './source.ts';
export type { MemberRow, LogRow, LiveBatch, MeshSnapshot } from './model.ts';
