// What the observability rows of bench:rpc change, in both processes:
// `micromesh-off`: metrics and tracing off (the baseline of the cost row);
// `micromesh-observed`: metrics on and an OpenTelemetry SDK registered with
// sampling off (a tracer provider and an async-hooks context manager, as
// NodeSDK registers them), so trace context is created and propagated on
// every call but no span is recorded. `micromesh-sampled-out`: the same SDK
// with micromesh's own head sampling at 0 (tracing.sampleRatio), which never
// asks the SDK for a span. `micromesh`: the defaults.
import type { ServiceOptions } from 'micromesh';

export async function observability(mode: string): Promise<Pick<ServiceOptions, 'metrics' | 'tracing'>> {
  if (mode === 'micromesh-off') return { metrics: false, tracing: false };
  if (mode !== 'micromesh-observed' && mode !== 'micromesh-sampled-out') return {};
  const [{ trace, context }, { BasicTracerProvider, AlwaysOffSampler }, { AsyncLocalStorageContextManager }] = await Promise.all([
    import('@opentelemetry/api'), import('@opentelemetry/sdk-trace-base'), import('@opentelemetry/context-async-hooks'),
  ]);
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(new BasicTracerProvider({ sampler: new AlwaysOffSampler() }));
  return mode === 'micromesh-observed' ? { metrics: true } : { metrics: true, tracing: { sampleRatio: 0 } };
}
