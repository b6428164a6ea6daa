// StaticMembership is a fixed snapshot (what `readMesh` read): no events, no
// joins or leaves, and what a node sets stays local. The suite checks exactly that.
import { StaticMembership } from '../../../src/membership/static.ts';
import { membershipCompliance, snapshotOf } from '../../compliance/membership.ts';

membershipCompliance('static', {
  capabilities: { disseminates: false, joins: false, leaves: false, detectsCrash: false },
  setup: async (specs) => {
    // Every member's snapshot includes itself, as a read of the mesh would: it must not list it.
    const views = snapshotOf(specs);
    return { members: specs.map((s) => new StaticMembership(s.id, views)), teardown: async () => {} };
  },
});
