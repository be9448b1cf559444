import { scrubPersonalData } from './logger.ts';

/** Where an unexpected error happened: bounded, non-personal facts only. */
export interface ErrorContext {
  requestId?: string;
  method?: string;
  /** The route's pattern, never the URL (which can carry ids and tokens). */
  route?: string;
  /** `fatal` for an error that ends the process. */
  level?: 'error' | 'fatal';
}

/**
 * Reports unexpected errors (a 500, an uncaught exception) to an error tracker. The logs always
 * have them too; this is the alerting side. Without SENTRY_DSN it does nothing.
 */
export interface ErrorReporter {
  report(error: unknown, context?: ErrorContext): void;
  /** Sends what is still buffered, within `timeoutMs`; before the process exits. */
  flush(timeoutMs: number): Promise<void>;
}

export const noErrorReporter: ErrorReporter = {
  report() {},
  async flush() {},
};

/**
 * A Sentry-compatible reporter (@sentry/node, loaded only when a DSN is set). No integration runs
 * (no automatic request capture, breadcrumbs, console or OpenTelemetry hooks), data collection is
 * off, and every event is cut down before it leaves: no request (body, cookies, headers, query),
 * no user, no breadcrumbs, and its messages and stack frames' text pass through the same scrubber
 * as the logs (email addresses, SQL parameters). The server name (a host name) is left out too.
 */
export async function createSentryReporter(options: {
  dsn: string;
  environment: string;
}): Promise<ErrorReporter> {
  const Sentry = await import('@sentry/node');
  const client = Sentry.initWithoutDefaultIntegrations({
    dsn: options.dsn,
    environment: options.environment,
    // Nothing about users or requests is collected; beforeSend below removes it again regardless.
    dataCollection: {
      userInfo: false,
      cookies: false,
      httpHeaders: false,
      httpBodies: [],
      urlQueryParams: false,
    },
    enableOpenTelemetrySetup: false,
    enableRuntimeChannelInjection: false,
    serverName: 'tierbase-api',
    beforeBreadcrumb: () => null,
    beforeSend(event) {
      delete event.request;
      delete event.user;
      delete event.breadcrumbs;
      delete event.contexts?.device;
      if (event.message) event.message = scrubPersonalData(event.message);
      for (const exception of event.exception?.values ?? []) {
        if (exception.value) exception.value = scrubPersonalData(exception.value);
        for (const frame of exception.stacktrace?.frames ?? []) delete frame.vars;
      }
      return event;
    },
  });
  return {
    report(error, context = {}) {
      Sentry.withScope((scope) => {
        scope.setLevel(context.level ?? 'error');
        if (context.requestId) scope.setTag('request_id', context.requestId);
        if (context.method) scope.setTag('http.method', context.method);
        if (context.route) scope.setTag('http.route', context.route);
        Sentry.captureException(error);
      });
    },
    async flush(timeoutMs) {
      await client?.flush(timeoutMs);
    },
  };
}
