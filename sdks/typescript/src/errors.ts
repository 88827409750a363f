import type { Error as WitError } from "bazaar:platform/types@0.2.0";

/** What kind of failure an {@link PluginError} is; `unavailable` is retried, the rest are final. */
export type ErrorKind = WitError["tag"];

/**
 * A failure that crosses the boundary: thrown by a capability call, or thrown by a plugin to
 * say why it failed. Throw `PluginError.unavailable(...)` to have a delivery retried later; any
 * other kind is final for this delivery. Anything else a plugin throws is reported as
 * `internal`, with its message.
 */
export class PluginError extends Error {
  readonly kind: ErrorKind;

  constructor(kind: ErrorKind, message: string) {
    super(message);
    this.kind = kind;
    this.name = `PluginError(${kind})`;
  }

  /** The installation was not granted the scope a call needs. */
  static forbidden(message: string): PluginError {
    return new PluginError("forbidden", message);
  }
  /** The thing asked for does not exist. */
  static notFound(message: string): PluginError {
    return new PluginError("not-found", message);
  }
  /** The input was refused; a hook throwing it rejects the person's change with `message`. */
  static invalid(message: string): PluginError {
    return new PluginError("invalid", message);
  }
  /** A per-call limit was reached. */
  static limitExceeded(message: string): PluginError {
    return new PluginError("limit-exceeded", message);
  }
  /** A passing failure: the delivery is retried later. */
  static unavailable(message: string): PluginError {
    return new PluginError("unavailable", message);
  }
  /** A failure of the plugin itself. */
  static internal(message: string): PluginError {
    return new PluginError("internal", message);
  }

  /** This error as the contract's `error` variant. */
  toWit(): WitError {
    return { tag: this.kind, val: this.message } as WitError;
  }
}

/** Calls a host function, turning the error it throws into a {@link PluginError}. */
export function host<T>(call: () => T): T {
  try {
    return call();
  } catch (thrown) {
    const payload = (thrown as { payload?: WitError } | null)?.payload;
    if (payload && typeof payload.tag === "string") {
      throw new PluginError(payload.tag, payload.val);
    }
    throw thrown;
  }
}

/** Any thrown value as the contract's `error` variant (a plugin's own bugs become `internal`). */
export function toWitError(thrown: unknown): WitError {
  if (thrown instanceof PluginError) {
    return thrown.toWit();
  }
  if (thrown instanceof Error) {
    return { tag: "internal", val: `${thrown.name}: ${thrown.message}` };
  }
  return { tag: "internal", val: String(thrown) };
}
