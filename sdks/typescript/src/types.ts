import type { Event as WitEvent, Project, Task } from "bazaar:platform/types@0.2.0";
import { PluginError } from "./errors";

export type { Project, Task };

/** Something that happened in the organization that installed the plugin. */
export class Event {
  /** Stable identifier: retries of the same delivery carry the same id. */
  readonly id: string;
  /** `resource.action`, for example `task.completed`. */
  readonly kind: string;
  readonly orgId: string;
  /** The id of the project or task the event is about. */
  readonly subjectId: string;
  /** RFC 3339 time. */
  readonly occurredAt: string;
  /** The resource right after the change, as JSON text; {@link Event.payload} parses it. */
  readonly payloadJson: string;

  constructor(event: WitEvent) {
    this.id = event.id;
    this.kind = event.kind;
    this.orgId = event.orgId;
    this.subjectId = event.subjectId;
    this.occurredAt = event.occurredAt;
    this.payloadJson = event.payload;
  }

  /** The resource right after the change (a task or a project, as the REST API shows it). */
  payload<T = Record<string, unknown>>(): T {
    try {
      return JSON.parse(this.payloadJson) as T;
    } catch (e) {
      throw PluginError.invalid(`the event's payload is not JSON: ${String(e)}`);
    }
  }

  /** What the event is about: `task` for `task.completed`. */
  resource(): string {
    return this.kind.split(".")[0];
  }
}
