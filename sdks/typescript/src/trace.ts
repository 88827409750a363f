/**
 * The plugin's own steps in the call's trace (no scope), nested inside the call's span and
 * inside each other; a team exporting traces sees them beside the host's. At most 100 spans and
 * 20 attributes each; past that, calls are ignored.
 *
 * ```ts
 * const items = trace.span("fetch items", { vendor: "acme" }, () => http.get(url).json());
 * ```
 */
import * as wit from "bazaar:platform/trace@0.2.0";

/** Runs `body` inside a span named `name`, which ends when `body` returns or throws. */
export function span<T>(name: string, attributes: Record<string, string>, body: () => T): T {
  const handle = wit.enter(name, Object.entries(attributes));
  try {
    return body();
  } finally {
    wit.exit(handle);
  }
}

/** Starts a span by hand; end it with {@link exit}. */
export function enter(name: string, attributes: Record<string, string> = {}): number {
  return wit.enter(name, Object.entries(attributes));
}
/** Adds an attribute to an open span. */
export function setAttribute(handle: number, key: string, value: string): void {
  wit.setAttribute(handle, key, value);
}
/** Ends a span started with {@link enter}. */
export function exit(handle: number): void {
  wit.exit(handle);
}
