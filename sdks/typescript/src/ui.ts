/**
 * UI in Bazaar's pages: blocks the host renders itself (contract 0.2.0 on).
 *
 * Name the places in `bazaar.toml` (`ui = ["task-panel"]`), then give `definePlugin` a
 * `render` (and an `onAction` for buttons), and export `extension` too:
 *
 * ```ts
 * export const { handler, hooks, extension } = definePlugin({
 *   render: (context) => [ui.heading("Triage"), ui.button("Suggest labels", "suggest")],
 *   onAction: (context, action) => ui.notice("Labels suggested"),
 * });
 * ```
 *
 * Every string is shown as text: no HTML or script of the plugin reaches the page.
 */
import type { Block, Context, Input, Reply } from "bazaar:platform/ui@0.2.0";

export type { Block, Context, Input, Reply };

/** A heading. */
export const heading = (text: string): Block => ({ tag: "heading", val: text });
/** A paragraph; `**bold**`, `*italic*` and `` `code` `` are shown as such. */
export const text = (text: string): Block => ({ tag: "text", val: text });
/** Labels and their values, from an object or pairs. */
export const fields = (pairs: Record<string, string> | Array<[string, string]>): Block => ({
  tag: "fields",
  val: (Array.isArray(pairs) ? pairs : Object.entries(pairs)).map(([label, value]) => ({ label, value })),
});
/** A table: its column names, then its rows. */
export const table = (columns: string[], rows: string[][]): Block => ({ tag: "table", val: { columns, rows } });
/** A bulleted list. */
export const bullets = (items: string[]): Block => ({ tag: "bullets", val: items });
/** A divider. */
export const divider = (): Block => ({ tag: "divider" });
/** A button that calls `onAction` with `action`. */
export const button = (label: string, action: string): Block => ({
  tag: "button",
  val: { label, action, style: "primary" },
});
/** A one-line text input for {@link form}. */
export const textInput = (name: string, label: string, value = ""): Input => ({
  name,
  label,
  kind: { tag: "text", val: "" },
  value,
});
/** A form: its inputs and the button that sends them to `onAction` with `action`. */
export const form = (inputs: Input[], submitLabel: string, action: string): Block => ({
  tag: "form",
  val: { inputs, submit: { label: submitLabel, action, style: "primary" } },
});
/** An action's reply: show this message, then render again. */
export const notice = (message: string): Reply => ({ tag: "notice", val: message });
/** An action's reply: show these blocks instead. */
export const show = (blocks: Block[]): Reply => ({ tag: "show", val: blocks });
