/**
 * Requests that carry an account or key the tenant connected, as `bazaar.toml` declares under
 * `[[connections]]`. Scope: `network`. Bazaar adds the credential, for the connection's hosts
 * only; the plugin never sees it. A host outside them, or a connection the tenant has not
 * connected (or must connect again), throws `forbidden`.
 *
 * ```ts
 * connections.postJson("github", "https://api.github.com/repos/acme/web/issues", { title });
 * ```
 */
import * as wit from "bazaar:platform/connections@0.2.0";
import { host } from "./errors";
import { Method, Response } from "./http";
import { utf8 } from "./text";

/** Whether the tenant connected it, and the account, when the vendor said. */
export type Status = wit.ConnectionStatus;

/** Sends one request through the connection `name`. */
export function send(
  name: string,
  method: Method,
  url: string,
  headers: Array<[string, string]> = [],
  body: Uint8Array | string | null = null,
): Response {
  const bytes = typeof body === "string" ? utf8(body) : body;
  return new Response(host(() => wit.send(name, { method, url, headers, body: bytes })));
}
/** `GET url` through the connection `name`. */
export function get(name: string, url: string, headers: Array<[string, string]> = []): Response {
  return send(name, "get", url, headers);
}
/** `POST url` with `value` as JSON, through the connection `name`. */
export function postJson(
  name: string,
  url: string,
  value: unknown,
  headers: Array<[string, string]> = [],
): Response {
  return send(name, "post", url, [["content-type", "application/json"], ...headers], JSON.stringify(value));
}
/** Whether the tenant has connected `name` (never its credential). */
export function status(name: string): Status {
  return host(() => wit.status(name));
}
