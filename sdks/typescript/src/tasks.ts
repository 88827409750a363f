/** The organization's tasks. Reading needs `tasks:read`; changes need `tasks:write`. */
import * as wit from "bazaar:platform/tasks@0.2.0";
import type { Task } from "bazaar:platform/types@0.2.0";
import { host } from "./errors";

export { complete, create, setLabels } from "./tasks-write";

/** One task by id (`not-found` if it is not the organization's). */
export function get(id: string): Task {
  return host(() => wit.get(id));
}
/** Tasks of one project, newest first, at most `limit` (1 to 100). */
export function listByProject(projectId: string, limit = 100): Task[] {
  return host(() => wit.listByProject(projectId, limit));
}
