import { ConformanceAssertionError } from "../errors.js";

/** Options of `openBidiSession`. */
export interface BidiSessionOptions {
  /**
   * Most responses held while the case is not reading them; beyond it the session fails,
   * since a server flooding a case is itself a finding. Default 10 000.
   */
  readonly maxBufferedResponses?: number;
  /** Aborts the stream (the case's signal). */
  readonly signal?: AbortSignal;
}

/**
 * A bidirectional stream driven step by step: `send` queues requests, `next` waits for
 * the next response. Used by cases of the Watch and Lease keep-alive streams.
 */
export interface BidiSession<Request, Response> {
  send(request: Request): void;
  /**
   * The next response, in order.
   *
   * @throws ConformanceAssertionError when none arrives within `timeoutMs` or the stream
   * ends first; the stream's own error when it fails.
   */
  next(what: string, timeoutMs?: number): Promise<Response>;
  /** Ends the request side and cancels the call. */
  close(): void;
}

/** Opens `call` with a request stream fed by `send`. */
export function openBidiSession<Request, Response>(
  call: (
    requests: AsyncIterable<Request>,
    options: { signal: AbortSignal },
  ) => AsyncIterable<Response>,
  options: BidiSessionOptions = {},
): BidiSession<Request, Response> {
  const maxBuffered = options.maxBufferedResponses ?? 10_000;
  const controller = new AbortController();
  const onAbort = () => controller.abort(options.signal?.reason);
  options.signal?.addEventListener("abort", onAbort, { once: true });

  const pendingRequests: Request[] = [];
  let requestWaiter: (() => void) | undefined;
  let requestsClosed = false;
  async function* requests(): AsyncGenerator<Request> {
    for (;;) {
      while (pendingRequests.length > 0) yield pendingRequests.shift()!;
      if (requestsClosed) return;
      await new Promise<void>((resolve) => {
        requestWaiter = resolve;
      });
      requestWaiter = undefined;
    }
  }

  const responses: Response[] = [];
  let ended = false;
  let failure: unknown;
  let responseWaiter: (() => void) | undefined;
  const wake = () => {
    const waiter = responseWaiter;
    responseWaiter = undefined;
    waiter?.();
  };
  void (async () => {
    try {
      for await (const response of call(requests(), { signal: controller.signal })) {
        if (responses.length >= maxBuffered) {
          throw new ConformanceAssertionError(`more than ${maxBuffered} unread stream responses`);
        }
        responses.push(response);
        wake();
      }
    } catch (error) {
      failure = error;
    } finally {
      ended = true;
      wake();
    }
  })();

  return {
    send(request) {
      pendingRequests.push(request);
      requestWaiter?.();
    },
    async next(what, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const response = responses.shift();
        if (response !== undefined) return response;
        if (ended) {
          if (failure !== undefined && !controller.signal.aborted) throw failure;
          throw new ConformanceAssertionError(`${what}: the stream ended first`);
        }
        const remaining = deadline - Date.now();
        if (remaining <= 0) {
          throw new ConformanceAssertionError(`${what}: nothing arrived within ${timeoutMs} ms`);
        }
        let timer: NodeJS.Timeout | undefined;
        await new Promise<void>((resolve) => {
          responseWaiter = resolve;
          timer = setTimeout(resolve, remaining);
        });
        clearTimeout(timer);
      }
    },
    close() {
      requestsClosed = true;
      requestWaiter?.();
      controller.abort();
      options.signal?.removeEventListener("abort", onAbort);
    },
  };
}
