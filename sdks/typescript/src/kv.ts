/**
 * A key-value store private to this installation, deleted on uninstall. Scope: `storage`.
 * Keys are at most 256 bytes, values at most 64 KiB, within the installation's quota.
 */
import * as wit from "bazaar:platform/kv@0.2.0";
import { host } from "./errors";
import { fromUtf8, utf8 } from "./text";

/** The bytes stored under `key`, or `null`. */
export function get(key: string): Uint8Array | null {
  return host(() => wit.get(key));
}
/** Stores `value` under `key`, replacing what was there. */
export function set(key: string, value: Uint8Array): void {
  host(() => wit.set(key, value));
}
/** Removes `key`; removing a missing key is not an error. */
function remove(key: string): void {
  host(() => wit.delete(key));
}
export { remove as delete };
/** Keys that start with `prefix`, sorted, at most `limit` (1 to 1000). */
export function listKeys(prefix: string, limit = 100): string[] {
  return host(() => wit.listKeys(prefix, limit));
}
/** The text stored under `key` (UTF-8), or `null`. */
export function getText(key: string): string | null {
  const bytes = get(key);
  return bytes === null ? null : fromUtf8(bytes);
}
/** Stores `text` under `key` as UTF-8. */
export function setText(key: string, text: string): void {
  set(key, utf8(text));
}
/** The JSON value stored under `key`, or `null`. */
export function getJson<T>(key: string): T | null {
  const text = getText(key);
  return text === null ? null : (JSON.parse(text) as T);
}
/** Stores `value` under `key` as JSON. */
export function setJson(key: string, value: unknown): void {
  setText(key, JSON.stringify(value));
}
