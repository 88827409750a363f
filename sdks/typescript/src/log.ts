/** Writes to the plugin's log, which the developer and the tenant admin can read. Scope: none. */
import * as wit from "bazaar:platform/log@0.2.0";

export function debug(message: string): void {
  wit.write("debug", message);
}
export function info(message: string): void {
  wit.write("info", message);
}
export function warn(message: string): void {
  wit.write("warn", message);
}
export function error(message: string): void {
  wit.write("error", message);
}
