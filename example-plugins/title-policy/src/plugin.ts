// Title policy: a hook that keeps task titles readable, written in TypeScript.
import { config, definePlugin, PluginError, type Task } from "bazaar-sdk";

const PLACEHOLDERS = ["TODO", "FIXME", "TBD", "XXX"];

/** Why `title` is refused, or `null` when it is fine. */
export function problem(title: string, minLength: number): string | null {
  const trimmed = title.trim();
  if ([...trimmed].length < minLength) {
    return `a task title needs at least ${minLength} characters`;
  }
  const letters = trimmed.replace(/[^\p{L}]/gu, "");
  if (letters.length >= 4 && letters === letters.toUpperCase() && letters !== letters.toLowerCase()) {
    return "a task title should not be written in capitals";
  }
  const word = PLACEHOLDERS.find((p) => new RegExp(`\\b${p}\\b`, "i").test(trimmed));
  if (word) {
    return `a task title should say what to do, not "${word}"`;
  }
  return null;
}

function minLength(): number {
  const configured = Number.parseInt(config.get("min_length") ?? "", 10);
  return Number.isFinite(configured) && configured > 0 ? configured : 5;
}

export const { handler, hooks } = definePlugin({
  validateTask(task: Task) {
    const why = problem(task.title, minLength());
    if (why !== null) {
      throw PluginError.invalid(why);
    }
  },
});
