import type { Member, MemberView, Registry, ServiceRecord, SwimEvent } from '../index.ts';
import { servicesOf } from '../index.ts';

/**
 * What the dashboard reads: the registry, and the SWIM view of the node it
 * runs on. A seam so the same pages can be driven by a synthetic mesh (500
 * services, 200 members) in the browser tests; `serviceSource` is the real
 * one, built from a running Service.
 */
export interface MeshSource {
  /** This node's member id; undefined off the mesh. */
  readonly localId: string | undefined;
  readonly registry: Registry;
  /** Every SWIM member (this node, dead and left ones until reaped); empty off the mesh. */
  members(): Member[];
  /** SWIM state changes; returns the unsubscribe function. */
  onEvent(listener: (event: SwimEvent) => void): () => void;
  /** Records of the live members (services and subscriptions), this node's included. */
  records(): MemberView[];
  /** One member's record, when live. */
  record(id: string): MemberView | undefined;
}

/** The source of a running service: its registry, its SWIM node and membership. */
export function serviceSource(service: { readonly registry: Registry; readonly mesh: { readonly swim: { readonly id: string; members(): Member[]; on(type: '*', l: (e: SwimEvent) => void): () => void }; readonly members: { local(): MemberView; members(): MemberView[]; member(id: string): MemberView | undefined } | undefined } | undefined }): MeshSource {
  return {
    get localId() {
      return service.mesh?.swim.id;
    },
    registry: service.registry,
    members: () => service.mesh?.swim.members() ?? [],
    onEvent: (listener) => service.mesh?.swim.on('*', listener) ?? (() => {}),
    records: () => {
      const m = service.mesh?.members;
      return m === undefined ? [] : [m.local(), ...m.members()];
    },
    record: (id) => {
      const m = service.mesh?.members;
      if (m === undefined) return undefined;
      const local = m.local();
      return local.id === id ? local : m.member(id);
    },
  };
}

/** Names of the services a member's record lists (malformed entries skipped). */
export function memberServices(record: MemberView | undefined): string[] {
  if (record === undefined) return [];
  return [...new Set(servicesOf(record).map((s: ServiceRecord) => s.name))].sort();
}

