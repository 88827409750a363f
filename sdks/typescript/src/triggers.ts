/**
 * Inbound web triggers: a tool calling the plugin back at the URL Bazaar gives each trigger
 * `bazaar.toml` declares under `[[triggers]]`. Bazaar has checked the request's signature (or
 * shared secret) before `onRequest` runs; export `triggers` from `definePlugin` for it to be
 * called.
 *
 * ```ts
 * onRequest(request) {
 *   if (triggers.header(request, "x-github-event") === "ping") return triggers.text(200, "pong");
 *   const event = triggers.bodyJson<{ action: string }>(request);
 *   return triggers.json(200, { seen: event.action });
 * }
 * ```
 */
import { PluginError } from "./errors";
import { fromUtf8, utf8 } from "./text";

/** A verified request: headers have lowercase names, without `cookie` or `authorization`. */
export interface Inbound {
  trigger: string;
  method: string;
  headers: Array<[string, string]>;
  body: Uint8Array;
}

/** What the caller gets: a status (200 to 599), `content-type` and `x-*` headers, at most 64 KiB. */
export interface Answer {
  status: number;
  headers: Array<[string, string]>;
  body: Uint8Array;
}

/** The value of header `name`, or `null`. */
export function header(request: Inbound, name: string): string | null {
  const lower = name.toLowerCase();
  return request.headers.find(([key]) => key.toLowerCase() === lower)?.[1] ?? null;
}
/** The request's body parsed as JSON. */
export function bodyJson<T = unknown>(request: Inbound): T {
  try {
    return JSON.parse(fromUtf8(request.body)) as T;
  } catch (e) {
    throw PluginError.invalid(`the request's body is not JSON: ${(e as Error).message}`);
  }
}
/** An answer with `value` as JSON. */
export function json(status: number, value: unknown): Answer {
  return { status, headers: [["content-type", "application/json"]], body: utf8(JSON.stringify(value)) };
}
/** An answer with plain `text`. */
export function text(status: number, body: string): Answer {
  return { status, headers: [["content-type", "text/plain; charset=utf-8"]], body: utf8(body) };
}
