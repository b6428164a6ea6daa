/**
 * The keys of a member's record (docs/PROTOCOL.md "Member records"), one per
 * concept that publishes into it. Defined here, once: the concepts that
 * write a key and the tools that read it (the CLI, the simulator) import
 * these names instead of spelling the strings again.
 */

/** The node's RPC address (`host:port`), written by the mesh. */
export const RPC_KEY = 'rpc';
/** The services the node runs, written by the mesh registry. */
export const SERVICES_KEY = 'services';
/** The direct broker's subscriptions. */
export const SUBS_KEY = 'subs';
/** The gossip broker's libp2p identity, addresses and topics. */
export const LIBP2P_KEY = 'libp2p';
/** The node's admin HTTP port (`host:port`), when it has one: Prometheus' http_sd list is built from these. The same key carries it in the node's registry metadata. */
export const ADMIN_KEY = 'admin';
