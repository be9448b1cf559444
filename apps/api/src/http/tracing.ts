import type { FastifyInstance } from 'fastify';

/** Probes and scrapes arrive every few seconds from every load balancer; their spans are noise. */
const UNTRACED = /^\/(health(\/|$)|metrics$)/;

/**
 * OpenTelemetry traces for every request (@fastify/otel: a span per request, its hooks and
 * handler), exported in batches over OTLP/HTTP (JSON) to `${endpoint}/v1/traces`. The packages
 * are imported here, dynamically, only when OTEL_EXPORTER_OTLP_ENDPOINT is set (esbuild keeps a
 * dynamic import of a package as it is), so without it the SDK is never loaded and requests pay
 * nothing. Closing the app flushes the spans still buffered.
 *
 * Spans carry the method, the route pattern, the status and the path without its query string
 * (which can carry tokens); never headers or bodies.
 */
export async function registerTracing(
  app: FastifyInstance,
  options: { endpoint: string; serviceName: string },
): Promise<void> {
  const [{ FastifyOtelInstrumentation }, { OTLPTraceExporter }, { resourceFromAttributes }, sdk] =
    await Promise.all([
      import('@fastify/otel'),
      import('@opentelemetry/exporter-trace-otlp-http'),
      import('@opentelemetry/resources'),
      import('@opentelemetry/sdk-trace-node'),
    ]);
  const { BatchSpanProcessor, NodeTracerProvider } = sdk;
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': options.serviceName }),
    spanProcessors: [
      new BatchSpanProcessor(
        new OTLPTraceExporter({ url: `${options.endpoint.replace(/\/$/, '')}/v1/traces` }),
      ),
    ],
  });
  // The global context manager (AsyncLocalStorage) nests hook and handler spans under the request.
  provider.register();
  const instrumentation = new FastifyOtelInstrumentation({
    ignorePaths: (route) => UNTRACED.test(route.url),
    requestHook: (span, request) => {
      span.setAttribute('url.path', request.url.split('?')[0] ?? '/');
    },
  });
  instrumentation.setTracerProvider(provider);
  await app.register(instrumentation.plugin());
  app.addHook('onClose', async () => {
    await provider.shutdown().catch((error: unknown) => {
      app.log.warn({ err: error }, 'tracing: spans could not be flushed');
    });
  });
}
