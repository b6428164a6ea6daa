import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Encoder } from 'cbor-x';
import type { Clock, TimerHandle } from '../clock/types.ts';
import type { RateLimitedLog } from '../log/limit.ts';
import type { KvCore } from './core.ts';
import { toWireVersion, fromWireVersion, type WireVersion } from './wire.ts';
import { versionOf } from './store.ts';

/** The snapshot file in the data dir (docs/PROTOCOL.md "Key/value store"). */
export const KV_FILE = 'kv.cbor';

interface SnapshotFile {
  /** Format version. */
  v: 1;
  /** The index counter, so indexes keep going up across restarts. */
  index: number;
  /** Every record, tombstones included, with the wall ms each became one. */
  records: [WireVersion, number | null][];
}

/**
 * The store on disk: one CBOR file, rewritten (to a temporary file, then
 * renamed, so a crash leaves the old or the new one) `delayMs` after a
 * change and on stop. A node restarted with the same data dir starts with
 * what it held, then anti-entropy brings it up to date.
 */
export class KvSnapshots {
  private readonly o: { dir: string; core: KvCore; clock: Clock; delayMs: number; log: RateLimitedLog };
  private readonly cbor = new Encoder({ useRecords: false, mapsAsObjects: true });
  private timer: TimerHandle | undefined;
  private writing: Promise<void> = Promise.resolve();
  private dirty = false;

  constructor(o: { dir: string; core: KvCore; clock: Clock; delayMs: number; log: RateLimitedLog }) {
    this.o = o;
  }

  async load(): Promise<void> {
    let raw: Buffer;
    try {
      raw = await readFile(join(this.o.dir, KV_FILE));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    let file: Partial<SnapshotFile>;
    try {
      file = this.cbor.decode(raw) as Partial<SnapshotFile>;
    } catch (err) {
      this.o.log.warn('kv-snapshot', 'the key/value snapshot is unreadable; starting empty (peers fill it in)', { file: join(this.o.dir, KV_FILE), error: String(err) });
      return;
    }
    const { core } = this.o;
    if (typeof file.index === 'number') core.state.raiseIndexTo(file.index);
    for (const [w, deletedAtMs] of Array.isArray(file.records) ? file.records : []) {
      const v = fromWireVersion(w);
      if (v !== undefined) core.merge(v, typeof deletedAtMs === 'number' ? deletedAtMs : undefined);
    }
  }

  /** Something changed: write within delayMs. */
  changed(): void {
    this.dirty = true;
    if (this.timer !== undefined) return;
    this.timer = this.o.clock.setTimeout(() => {
      this.timer = undefined;
      void this.save();
    }, this.o.delayMs);
  }

  /** Writes now if anything is unsaved (the store stops). */
  async flush(): Promise<void> {
    this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
    await this.save();
  }

  private save(): Promise<void> {
    this.writing = this.writing.then(async () => {
      if (!this.dirty) return;
      this.dirty = false;
      const { core } = this.o;
      const file: SnapshotFile = {
        v: 1, index: core.state.lastIndex,
        records: [...core.state.all()].map((r) => [toWireVersion(versionOf(r)), r.deletedAtMs ?? null]),
      };
      const path = join(this.o.dir, KV_FILE);
      try {
        await mkdir(this.o.dir, { recursive: true });
        await writeFile(`${path}.tmp`, this.cbor.encode(file));
        await rename(`${path}.tmp`, path);
      } catch (err) {
        this.dirty = true;
        this.o.log.warn('kv-save', 'writing the key/value snapshot failed', { file: path, error: String(err) });
      }
    });
    return this.writing;
  }
}
