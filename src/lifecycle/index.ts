export { Lifecycle, type LifecycleState } from './lifecycle.ts';
