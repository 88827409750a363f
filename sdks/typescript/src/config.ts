/** This installation's configuration, as the tenant admin filled it in. Scope: none. */
import * as wit from "bazaar:platform/config@0.2.0";
import { PluginError } from "./errors";

/** The value of one configuration field, or `null` when it is not set. */
export function get(key: string): string | null {
  return wit.get(key);
}

/** The value of a field the plugin cannot work without: `invalid` when it is not set. */
export function require(key: string): string {
  const value = wit.get(key);
  if (value === null || value === "") {
    throw PluginError.invalid(`the configuration field \`${key}\` is not set`);
  }
  return value;
}
