export type { Membership, MemberView, MembershipEvent, MembershipListener, RecordData } from './types.ts';
export { MemoryMembership, MemoryMembershipNetwork } from './memory.ts';
export { StaticMembership } from './static.ts';
export { RPC_KEY, SERVICES_KEY, SUBS_KEY, LIBP2P_KEY, ADMIN_KEY } from './keys.ts';
