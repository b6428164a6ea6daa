export type { Service, ServiceOptions, ServiceStopOptions, Hook } from './types.ts';
export { createService } from './service.ts';
