import type { MemberView } from './types.ts';

/** `record` with `key` set to `value` (removed when undefined) and the version raised: what every `setLocal` does. */
export function withEntry(record: MemberView, key: string, value: unknown): MemberView {
  const data: Record<string, unknown> = { ...record.data };
  if (value === undefined) delete data[key];
  else data[key] = value;
  return { id: record.id, version: record.version + 1, data };
}
