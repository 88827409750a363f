//! The first files of a TypeScript, JavaScript or Python plugin project, and every project's
//! manifest: a plugin that logs each new task and checks task titles, which builds as written.

use super::kit::Language;

/// The project's manifest (`bazaar.toml`): what the app asks for, in the tenant's words.
pub fn manifest(name: &str) -> String {
    format!(
        r#"# The app's manifest. Its [[scopes]] are what the plugin may call, and what a tenant is asked
# to grant: `bazaar plugin build` links exactly the interfaces they grant.
name = "{title}"
slug = "{name}"
description = "Logs each new task and checks task titles."
category = "productivity"
events = ["task.created"]
hooks = ["validate-task"]
allowed_hosts = []

[[scopes]]
name = "tasks:read"
purpose = "Hear about new tasks and read their titles."

# [[scopes]]
# name = "storage"
# purpose = "Keep counts in the app's own storage."

[pricing]
plan = "free"
"#,
        title = words(name).join(" ")
    )
}

/// The words of a plugin's name, capitalised: `my-plugin` → `["My", "Plugin"]`.
pub fn words(name: &str) -> Vec<String> {
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// The language's source files (and, for TypeScript, its editor settings).
pub fn files(name: &str, language: Language) -> Vec<(&'static str, String)> {
    match language {
        Language::TypeScript => vec![
            (
                "src/plugin.ts",
                format!(
                    r#"// {name}: a Bazaar plugin.
import {{ definePlugin, log, PluginError }} from "bazaar-sdk";

export const {{ handler, hooks }} = definePlugin({{
  onEvent(event) {{
    if (event.kind === "task.created") {{
      const task = event.payload<{{ title: string }}>();
      log.info(`a task was created: ${{task.title}}`);
    }}
  }},
  validateTask(task) {{
    if (task.title.trim().length < 3) {{
      throw PluginError.invalid("a task title needs at least 3 characters");
    }}
  }},
}});
"#
                ),
            ),
            (
                "tsconfig.json",
                r#"{
  "compilerOptions": {
    "target": "ES2023",
    "module": "ESNext",
    "moduleResolution": "Bundler",
    "strict": true,
    "noEmit": true,
    "lib": ["ES2023"],
    "paths": { "bazaar-sdk": ["./bazaar/sdks/typescript/src/index.ts"] }
  },
  "include": ["src", "bazaar/sdks/typescript/src"]
}
"#
                .to_owned(),
            ),
        ],
        Language::JavaScript => vec![(
            "src/plugin.js",
            format!(
                r#"// {name}: a Bazaar plugin.
import {{ definePlugin, log, PluginError }} from "bazaar-sdk";

export const {{ handler, hooks }} = definePlugin({{
  onEvent(event) {{
    if (event.kind === "task.created") {{
      log.info(`a task was created: ${{event.payload().title}}`);
    }}
  }},
  validateTask(task) {{
    if (task.title.trim().length < 3) {{
      throw PluginError.invalid("a task title needs at least 3 characters");
    }}
  }},
}});
"#
            ),
        )],
        Language::Python => vec![(
            "app.py",
            format!(
                r#""""{name}: a Bazaar plugin."""

from bazaar_sdk import Event, Plugin, PluginError, export, log


class App(Plugin):
    def on_event(self, event: Event) -> None:
        if event.kind == "task.created":
            log.info(f"a task was created: {{event.payload()['title']}}")

    def validate_task(self, task) -> None:
        if len(task.title.strip()) < 3:
            raise PluginError.invalid("a task title needs at least 3 characters")


Handler, Hooks = export(App())
"#
            ),
        )],
        Language::Rust => Vec::new(),
    }
}
