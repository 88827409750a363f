// Project starter: first tasks for every new project, written in TypeScript.
import { config, definePlugin, kv, log, tasks } from "bazaar-sdk";

const DEFAULT_TASKS = ["Write the project brief", "Invite the team", "Plan the first milestone"];

/** The starter list: the admin's lines, or the defaults. */
export function starterTasks(configured: string | null): string[] {
  const lines = (configured ?? "")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
  return lines.length > 0 ? lines.slice(0, 20) : DEFAULT_TASKS;
}

export const { handler, hooks } = definePlugin({
  onEvent(event) {
    if (event.kind !== "project.created") return;
    const project = event.payload<{ id: string; name: string }>();
    // A delivery may come again (a retry after a timeout): the mark makes it create nothing twice.
    const mark = `started/${project.id}`;
    const done = kv.getJson<string[]>(mark) ?? [];
    for (const title of starterTasks(config.get("tasks"))) {
      if (done.includes(title)) continue;
      tasks.create(project.id, title, `Added by Project starter to ${project.name}.`, ["starter"]);
      done.push(title);
      kv.setJson(mark, done);
    }
    log.info(`${done.length} starter tasks in ${project.name}`);
  },
});
