// Cancellation for one request, made lazily: an AbortController (and its AbortSignal, an
// EventTarget) costs more than a whole small tool call, and most requests are never cancelled and
// never look at their signal. The controller is created the first time a handler reads
// `ctx.signal`; a cancellation before that is remembered and applied to it.

export class LazyAbort {
  /** True once abort() ran; what the dispatcher checks to drop the reply of a cancelled request. */
  aborted = false;
  private reason: unknown;
  private controller: AbortController | undefined;
  private combined: AbortSignal | undefined;

  /**
   * `env.signal` (the transport's, e.g. the HTTP client went away) aborts the signal too; it is
   * read only when the signal is made, so a transport may make its own lazily as well.
   */
  constructor(readonly env: { readonly signal: AbortSignal | undefined }) {}

  abort(reason?: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.controller?.abort(reason);
  }

  get signal(): AbortSignal {
    if (this.combined !== undefined) return this.combined;
    this.controller = new AbortController();
    if (this.aborted) this.controller.abort(this.reason);
    const outer = this.env.signal;
    this.combined = outer === undefined ? this.controller.signal : AbortSignal.any([this.controller.signal, outer]);
    return this.combined;
  }
}
