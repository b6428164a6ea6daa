import type { Membership } from '../membership/types.ts';
import type { Node } from '../registry/types.ts';
import type { CallOutcome, Next, SelectOptions, Selector } from '../selector/types.ts';
import type { SwimEvent, SwimNode } from '../swim/types.ts';

/**
 * A selector that also tells the failure detector about connection failures
 * ("crashed is not slow"): a refused or reset RPC connection to a node makes
 * SWIM check that node at once instead of at its next probe, so a SIGKILLed
 * process leaves every registry in about a second. The other way round,
 * SWIM's suspicions reach the selector: a node that stopped answering
 * probes gets no new calls while another is healthy, seconds before it is
 * declared dead and leaves the registry.
 */
export class ReportingSelector implements Selector {
  private readonly inner: Selector;
  private readonly membership: () => Membership | undefined;

  constructor(inner: Selector, membership: () => Membership | undefined, swim?: SwimNode) {
    this.inner = inner;
    this.membership = membership;
    // Same lifetime as the service: events flow only while SWIM runs.
    swim?.on('*', (ev: SwimEvent) => this.onSwim(ev));
  }

  private onSwim(ev: SwimEvent): void {
    if (this.inner.suspect === undefined || ev.type === 'conflict') return;
    this.inner.suspect(ev.member.id, ev.type === 'suspect');
  }

  suspect(key: string, suspected: boolean): void {
    this.inner.suspect?.(key, suspected);
  }

  select(service: string, opts?: SelectOptions): Next | Promise<Next> {
    return this.inner.select(service, opts);
  }

  mark(service: string, node: Node, outcome?: CallOutcome): void {
    this.inner.mark(service, node, outcome);
    const code = (outcome?.error as { code?: unknown } | undefined)?.code;
    if (code === 'CONNECTION_REFUSED' || code === 'CONNECTION_LOST') this.membership()?.reportUnreachable(node.id, code === 'CONNECTION_REFUSED');
  }

  reset(service?: string): void {
    this.inner.reset(service);
  }

  close(): void {
    this.inner.close();
  }
}
