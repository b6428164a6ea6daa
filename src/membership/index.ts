export type { Membership, MemberView, MembershipEvent, MembershipListener, RecordData } from './types.ts';
export { MemoryMembership, MemoryMembershipNetwork } from './memory.ts';
export { StaticMembership } from './static.ts';
