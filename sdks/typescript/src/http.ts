/**
 * Outbound HTTP to the hosts the app's manifest declares. Scope: `network`. Never to private
 * addresses; calls, time and response size are capped per invocation.
 */
import * as wit from "bazaar:platform/http@0.2.0";
import { host } from "./errors";
import { fromUtf8, utf8 } from "./text";

export type Method = wit.Method;

/** A response, whole. */
export class Response {
  readonly status: number;
  readonly headers: Array<[string, string]>;
  readonly body: Uint8Array;

  constructor(response: wit.Response) {
    this.status = response.status;
    this.headers = response.headers;
    this.body = response.body;
  }
  /** Whether the status is 2xx. */
  get ok(): boolean {
    return this.status >= 200 && this.status < 300;
  }
  /** The first value of header `name` (any case), or `null`. */
  header(name: string): string | null {
    const lower = name.toLowerCase();
    return this.headers.find(([key]) => key.toLowerCase() === lower)?.[1] ?? null;
  }
  /** The body as UTF-8 text. */
  text(): string {
    return fromUtf8(this.body);
  }
  /** The body parsed as JSON. */
  json<T = unknown>(): T {
    return JSON.parse(this.text()) as T;
  }
}

/** Sends one request and waits for the whole response. */
export function send(
  method: Method,
  url: string,
  headers: Array<[string, string]> = [],
  body: Uint8Array | string | null = null,
): Response {
  const bytes = typeof body === "string" ? utf8(body) : body;
  return new Response(host(() => wit.send({ method, url, headers, body: bytes })));
}
/** `GET url`. */
export function get(url: string, headers: Array<[string, string]> = []): Response {
  return send("get", url, headers);
}
/** `POST url` with `value` as a JSON body. */
export function postJson(url: string, value: unknown, headers: Array<[string, string]> = []): Response {
  return send("post", url, [["content-type", "application/json"], ...headers], JSON.stringify(value));
}
