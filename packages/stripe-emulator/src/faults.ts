export type FaultKind = '500' | '429' | 'drop' | 'slow';

export interface FaultOptions {
  delayMs?: number;
  pathPrefix?: string;
  /** Only requests with this HTTP method (GET, POST, DELETE); any method when unset. */
  method?: string;
}

interface PendingFault {
  remaining: number;
  kind: FaultKind;
  delayMs: number;
  pathPrefix: string;
  method: string | undefined;
}

/** "Make the next N API calls fail": a queue of faults consumed by matching /v1 requests. */
export class FaultInjector {
  private faults: PendingFault[] = [];

  failNext(n: number, kind: FaultKind, opts: FaultOptions = {}): void {
    if (!['500', '429', 'drop', 'slow'].includes(kind)) throw new Error(`unknown fault kind: ${kind}`);
    if (n <= 0) return;
    this.faults.push({
      remaining: Math.floor(n),
      kind,
      delayMs: opts.delayMs ?? 2000,
      pathPrefix: opts.pathPrefix ?? '/v1',
      method: opts.method?.toUpperCase(),
    });
  }

  clear(): void {
    this.faults = [];
  }

  pending(): {
    kind: FaultKind;
    remaining: number;
    delayMs: number;
    pathPrefix: string;
    method: string | undefined;
  }[] {
    return this.faults.map((f) => ({ ...f }));
  }

  /** The fault for this request, if any (consuming one of its N). */
  take(path: string, method?: string): { kind: FaultKind; delayMs: number } | null {
    const fault = this.faults.find(
      (f) => path.startsWith(f.pathPrefix) && (!f.method || f.method === method?.toUpperCase()),
    );
    if (!fault) return null;
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.faults.splice(this.faults.indexOf(fault), 1);
    return { kind: fault.kind, delayMs: fault.delayMs };
  }
}
