/**
 * Write Bazaar plugins in TypeScript or JavaScript.
 *
 * A plugin exports `handler` and `hooks`, made by {@link definePlugin}:
 *
 * ```ts
 * import { definePlugin, log, tasks } from "bazaar-sdk";
 *
 * export const { handler, hooks } = definePlugin({
 *   onEvent(event) {
 *     if (event.kind === "task.created") {
 *       log.info(`new task: ${tasks.get(event.subjectId).title}`);
 *     }
 *   },
 * });
 * ```
 *
 * It runs in a fresh sandbox for every call and reaches the platform only through the
 * capability modules (`kv`, `projects`, `tasks`, `http`, ...), and only those whose scope the
 * manifest (`bazaar.toml`) asks for: `bazaar plugin build` makes the component import exactly
 * the interfaces of those scopes.
 */
import type { Event as WitEvent, Task } from "bazaar:platform/types@0.1.0";
import { toWitError } from "./errors";
import * as log from "./log";
import { Event } from "./types";

export { PluginError, type ErrorKind } from "./errors";
export { Event, type Project, type Task } from "./types";
export { fromUtf8, utf8 } from "./text";
export * as config from "./config";
export * as http from "./http";
export * as kv from "./kv";
export * as log from "./log";
export * as projects from "./projects";
export * as tasks from "./tasks";

/** What a plugin does; every method is optional. */
export interface Plugin {
  /**
   * Handles one event the installation subscribed to. Throw `PluginError.unavailable(...)` to
   * have the delivery retried later; any other error is final for this delivery.
   */
  onEvent?(event: Event): void;
  /**
   * Checks a task before it is created or changed. Throw `PluginError.invalid(message)` to
   * reject the change with `message`. Runs inside the person's request, with a small budget.
   */
  validateTask?(task: Task): void;
}

/** The component's exports for `plugin`: `export const { handler, hooks } = definePlugin(...)`. */
export function definePlugin(plugin: Plugin): {
  handler: { onEvent(event: WitEvent): void };
  hooks: { validateTask(task: Task): void };
} {
  return {
    handler: {
      onEvent(event: WitEvent): void {
        guard(() => plugin.onEvent?.(new Event(event)));
      },
    },
    hooks: {
      validateTask(task: Task): void {
        guard(() => plugin.validateTask?.(task));
      },
    },
  };
}

/** Runs `body`; what it throws crosses the boundary as the contract's error, never as a trap. */
function guard(body: () => void): void {
  try {
    body();
  } catch (thrown) {
    const error = toWitError(thrown);
    if (error.tag === "internal" && thrown instanceof Error) {
      log.error(`${thrown.name}: ${thrown.message}\n${thrown.stack ?? ""}`);
    }
    throw error;
  }
}
