import type { LogFields, Logger } from '../log/types.ts';
import type { CallScope } from '../rpc/scope.ts';
import { REQUEST_ID } from '../rpc/trace-context.ts';
import { idsInScope } from './tracing-scope.ts';
import type { TraceIds } from './tracing-types.ts';

/**
 * A Logger whose lines written while a call or delivery is being served
 * carry `traceId`, `spanId` and `requestId`, with no argument passed
 * around: it reads the call scope when a line is written (nothing happens
 * until then, so the cost is per line, not per call). Fields given by the
 * caller win over these. `ids` is Tracing's `currentIds` when tracing is
 * on; by default, the ids of the `traceparent` in scope.
 */
export function scopedLogger(base: Logger, scope: CallScope, ids: () => TraceIds | undefined = () => idsInScope(scope.current())): Logger {
  return new ScopedLogger(base, scope, ids);
}

class ScopedLogger implements Logger {
  private readonly base: Logger;
  private readonly scope: CallScope;
  private readonly ids: () => TraceIds | undefined;

  constructor(base: Logger, scope: CallScope, ids: () => TraceIds | undefined) {
    this.base = base;
    this.scope = scope;
    this.ids = ids;
  }

  debug(msg: string, fields?: LogFields): void {
    this.base.debug(msg, this.fields(fields));
  }

  info(msg: string, fields?: LogFields): void {
    this.base.info(msg, this.fields(fields));
  }

  warn(msg: string, fields?: LogFields): void {
    this.base.warn(msg, this.fields(fields));
  }

  error(msg: string, fields?: LogFields): void {
    this.base.error(msg, this.fields(fields));
  }

  child(bindings: LogFields): Logger {
    return new ScopedLogger(this.base.child(bindings), this.scope, this.ids);
  }

  private fields(given: LogFields | undefined): LogFields | undefined {
    const ids = this.ids();
    const requestId = this.scope.current()?.metadata[REQUEST_ID];
    if (ids === undefined && requestId === undefined) return given;
    const out: LogFields = {};
    if (ids !== undefined) {
      out.traceId = ids.traceId;
      out.spanId = ids.spanId;
    }
    if (requestId !== undefined) out.requestId = requestId;
    return given === undefined ? out : Object.assign(out, given);
  }
}
