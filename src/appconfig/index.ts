/**
 * `micromesh/config`: application config from files, the environment, flags
 * and the mesh's key/value store, merged in order, validated by any Standard
 * Schema (zod 4, valibot), typed and watched (Go Micro's `config` package).
 *
 * @example
 * import { z } from 'zod';
 * import { loadConfig, file, env, flags, mesh } from 'micromesh/config';
 * const config = await loadConfig({
 *   sources: [file('config.yaml', { optional: true }), env('APP_'), flags(process.argv.slice(2)), mesh(service.kv, 'greeter')],
 *   schema: z.object({ greeting: z.string().default('Hello'), server: z.object({ port: z.number().int() }) }),
 * });
 * config.watch('greeting', (now, before) => console.log(`greeting: ${before} → ${now}`));
 */
export { loadConfig } from './loader.ts';
export { file, type FileOptions } from './file.ts';
export { env, envPath, type EnvOptions } from './env.ts';
export { flags, parseFlags } from './flags.ts';
export { mesh, type ConfigKv, type MeshSourceOptions } from './mesh.ts';
export { TreeBuilder, mergeSnapshots, pathKey } from './merge.ts';
export { parseScalar, parseKvValue } from './parse.ts';
export type * from './types.ts';
