/** Changes to the organization's projects. Scope: `projects:write`. */
import * as wit from "bazaar:platform/projects-write@0.2.0";
import type { Project } from "bazaar:platform/types@0.2.0";
import { host } from "./errors";

/** Creates an active project; emits `project.created`. */
export function create(name: string, description = ""): Project {
  return host(() => wit.create(name, description));
}
