export type { AdminLimits, AdminMember, AdminOptions, AdminSource, HttpSdGroup } from './types.ts';
export { ADMIN_DEFAULTS, resolveAdminConfig, type AdminConfig } from './config.ts';
export { AdminServer, ADMIN_ERROR_ID, ADMIN_ROUTES } from './server.ts';
export { HTTP_SD_LABELS, httpSdGroups, tagList } from './targets.ts';
