/** The organization's projects. Reading needs `projects:read`; `create` needs `projects:write`. */
import * as wit from "bazaar:platform/projects@0.2.0";
import type { Project } from "bazaar:platform/types@0.2.0";
import { host } from "./errors";

export { create } from "./projects-write";

/** One project by id (`not-found` if it is not the organization's). */
export function get(id: string): Project {
  return host(() => wit.get(id));
}
/** Active projects, newest first, at most `limit` (1 to 100). */
export function list(limit = 100): Project[] {
  return host(() => wit.listActive(limit));
}
