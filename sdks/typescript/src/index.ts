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
import type { Event as WitEvent, Task } from "bazaar:platform/types@0.2.0";
import type { Block, Context, Reply } from "bazaar:platform/ui@0.2.0";
import { PluginError, toWitError } from "./errors";
import * as log from "./log";
import { type Answer, type Inbound, text } from "./triggers";
import { Event } from "./types";

export { PluginError, type ErrorKind } from "./errors";
export { Event, type Project, type Task } from "./types";
export { fromUtf8, utf8 } from "./text";
export * as config from "./config";
export * as connections from "./connections";
export * as http from "./http";
export * as kv from "./kv";
export * as log from "./log";
export * as projects from "./projects";
export * as tasks from "./tasks";
export * as trace from "./trace";
export * as triggers from "./triggers";
export * as ui from "./ui";

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
  /**
   * The blocks to show where `bazaar.toml`'s `ui` names (a task's panel, a project's card, the
   * settings page); `context.subjectId` is the task or project shown. Runs inside the person's
   * page load, with the hook budget. Export `extension` for it to be called.
   */
  render?(context: Context): Block[];
  /**
   * A person pressed one of the plugin's buttons: `action` is the button's, `values` its form's.
   * Return `ui.notice(message)` to show a message and render again, or `ui.show(blocks)`.
   */
  onAction?(context: Context, action: string, values: Map<string, string>): Reply;
  /**
   * A tool called one of `bazaar.toml`'s `triggers`, and Bazaar checked its signature. Runs with
   * the hook budget. Export `triggers` for it to be called.
   */
  onRequest?(request: Inbound): Answer;
}

/**
 * The component's exports: `export const { handler, hooks } = definePlugin(...)`, and
 * `extension` too for a plugin with UI.
 */
export function definePlugin(plugin: Plugin): {
  handler: { onEvent(event: WitEvent): void };
  hooks: { validateTask(task: Task): void };
  extension: {
    render(context: Context): Block[];
    onAction(context: Context, action: string, values: Array<[string, string]>): Reply;
  };
  triggers: { onRequest(request: Inbound): Answer };
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
    extension: {
      render(context: Context): Block[] {
        return guard(() => plugin.render?.(context) ?? []);
      },
      onAction(context: Context, action: string, values: Array<[string, string]>): Reply {
        return guard(() => {
          if (!plugin.onAction) throw PluginError.invalid(`this plugin has no action \`${action}\``);
          return plugin.onAction(context, action, new Map(values));
        });
      },
    },
    triggers: {
      onRequest(request: Inbound): Answer {
        return guard(() => plugin.onRequest?.(request) ?? text(404, `this plugin has no trigger \`${request.trigger}\``));
      },
    },
  };
}

/** Runs `body`; what it throws crosses the boundary as the contract's error, never as a trap. */
function guard<T>(body: () => T): T {
  try {
    return body();
  } catch (thrown) {
    const error = toWitError(thrown);
    if (error.tag === "internal" && thrown instanceof Error) {
      log.error(`${thrown.name}: ${thrown.message}\n${thrown.stack ?? ""}`);
    }
    throw error;
  }
}
