import { withEntry } from './record.ts';
import type { MemberView, Membership, MembershipListener } from './types.ts';

/**
 * A fixed membership: the members as read once (e.g. by `readMesh`), no
 * events. Command-line clients publish through it without joining the mesh;
 * what this node sets locally stays local.
 */
export class StaticMembership implements Membership {
  readonly localId: string;
  private record: MemberView;
  private readonly others: Map<string, MemberView>;

  constructor(localId: string, members: readonly MemberView[]) {
    this.localId = localId;
    this.record = { id: localId, version: 1, data: {} };
    this.others = new Map(members.filter((m) => m.id !== localId).map((m) => [m.id, m]));
  }

  local(): MemberView {
    return this.record;
  }

  setLocal(key: string, value: unknown): void {
    this.record = withEntry(this.record, key, value);
  }

  members(): MemberView[] {
    return [...this.others.values()];
  }

  member(id: string): MemberView | undefined {
    return this.others.get(id);
  }

  subscribe(_listener: MembershipListener): () => void {
    return () => {};
  }

  reportUnreachable(): void {}
}
