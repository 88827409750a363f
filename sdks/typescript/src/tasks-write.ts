/** Changes to the organization's tasks. Scope: `tasks:write`. */
import * as wit from "bazaar:platform/tasks-write@0.2.0";
import type { Task } from "bazaar:platform/types@0.2.0";
import { host } from "./errors";

/** Creates an open task in an active project; emits `task.created`. */
export function create(projectId: string, title: string, description = "", labels: string[] = []): Task {
  return host(() => wit.create(projectId, title, description, labels));
}
/** Replaces the labels of a task; emits `task.updated`. */
export function setLabels(id: string, labels: string[]): Task {
  return host(() => wit.setLabels(id, labels));
}
/** Marks a task completed; emits `task.completed`. */
export function complete(id: string): Task {
  return host(() => wit.complete(id));
}
