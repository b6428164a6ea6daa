import type { Membership } from '../membership/types.ts';
import type { Node } from '../registry/types.ts';
import type { CallOutcome, Next, SelectOptions, Selector } from '../selector/types.ts';

/**
 * A selector that also tells the failure detector about connection failures
 * ("crashed is not slow"): a refused or reset RPC connection to a node makes
 * SWIM check that node at once instead of at its next probe, so a SIGKILLed
 * process leaves every registry in about a second.
 */
export class ReportingSelector implements Selector {
  private readonly inner: Selector;
  private readonly membership: () => Membership | undefined;

  constructor(inner: Selector, membership: () => Membership | undefined) {
    this.inner = inner;
    this.membership = membership;
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
