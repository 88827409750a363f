// Posts new and completed tasks to a Discord channel through its webhook, as Discord documents
// "Execute Webhook": POST the webhook URL with `?wait=true`, JSON `content` (at most 2,000
// characters) and `allowed_mentions: { parse: [] }`, so that no title pings anyone.
import { config, definePlugin, http, log, PluginError } from "bazaar-sdk";

type Task = { id: string; title: string };

const VERBS: Record<string, string> = {
  "task.created": "New task",
  "task.completed": "Completed",
};

/** The message for an event, or null for events this plugin does not announce. */
function message(kind: string, task: Task): string | null {
  const verb = VERBS[kind];
  if (!verb) return null;
  const text = `**${verb}:** ${task.title}`;
  return text.length > 2000 ? `${text.slice(0, 1999)}…` : text;
}

/** What Discord's answer means: 429 and 5xx pass (retried), a deleted webhook is final. */
function check(response: http.Response): void {
  if (response.ok) return;
  if (response.status === 429) {
    const body = response.json<{ retry_after?: number }>();
    const after = response.header("retry-after") ?? String(body.retry_after ?? 1);
    throw PluginError.unavailable(`Discord's rate limit: retry after ${after} s`);
  }
  if (response.status >= 500) throw PluginError.unavailable(`Discord answered ${response.status}`);
  if (response.status === 401 || response.status === 404) {
    throw PluginError.invalid("the Discord webhook no longer exists: create one and paste its URL in the settings");
  }
  throw PluginError.invalid(`Discord refused the message (${response.status}): ${response.text()}`);
}

export const { handler, hooks } = definePlugin({
  onEvent(event) {
    const task = event.payload<Task>();
    const content = message(event.kind, task);
    if (content === null) return;
    const url = config.require("webhook_url");
    if (!/^https?:\/\/[^/]+\/api\/webhooks\/\d+\/[\w-]+$/.test(url)) {
      throw PluginError.invalid("the webhook URL is not a Discord webhook URL (…/api/webhooks/ID/TOKEN)");
    }
    const response = http.postJson(`${url}?wait=true`, { content, allowed_mentions: { parse: [] } });
    check(response);
    log.info(`posted ${event.kind} for ${task.id}`);
  },
});
