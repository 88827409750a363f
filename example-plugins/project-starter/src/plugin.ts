// Project starter: first tasks for every new project, written in TypeScript. Its card on each
// project's page lists them, and starts a project that was created before it was installed.
import { config, definePlugin, kv, log, projects, tasks, ui } from "bazaar-sdk";

const DEFAULT_TASKS = ["Write the project brief", "Invite the team", "Plan the first milestone"];

/** The starter list: the admin's lines, or the defaults. */
export function starterTasks(configured: string | null): string[] {
  const lines = (configured ?? "")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
  return lines.length > 0 ? lines.slice(0, 20) : DEFAULT_TASKS;
}

/** Adds the starter tasks a project does not have yet; returns every one it has. */
function start(project: { id: string; name: string }): string[] {
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
  return done;
}

export const { handler, hooks, extension } = definePlugin({
  onEvent(event) {
    if (event.kind !== "project.created") return;
    start(event.payload<{ id: string; name: string }>());
  },
  render(context) {
    const done = kv.getJson<string[]>(`started/${context.subjectId}`);
    if (done === null) {
      return [ui.text("This project has no starter tasks yet."), ui.button("Add the starter tasks", "start")];
    }
    return [ui.heading("Starter tasks"), ui.bullets(done)];
  },
  onAction(context, action) {
    if (action !== "start") throw new Error(`unknown action ${action}`);
    const added = start(projects.get(context.subjectId));
    return ui.notice(`${added.length} starter tasks added`);
  },
});
