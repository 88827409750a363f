var __defProp = Object.defineProperty;
var __export = (target, all) => {
  for (var name in all)
    __defProp(target, name, { get: all[name], enumerable: true });
};

// sdks/typescript/src/errors.ts
var PluginError = class _PluginError extends Error {
  kind;
  constructor(kind, message) {
    super(message);
    this.kind = kind;
    this.name = `PluginError(${kind})`;
  }
  /** The installation was not granted the scope a call needs. */
  static forbidden(message) {
    return new _PluginError("forbidden", message);
  }
  /** The thing asked for does not exist. */
  static notFound(message) {
    return new _PluginError("not-found", message);
  }
  /** The input was refused; a hook throwing it rejects the person's change with `message`. */
  static invalid(message) {
    return new _PluginError("invalid", message);
  }
  /** A per-call limit was reached. */
  static limitExceeded(message) {
    return new _PluginError("limit-exceeded", message);
  }
  /** A passing failure: the delivery is retried later. */
  static unavailable(message) {
    return new _PluginError("unavailable", message);
  }
  /** A failure of the plugin itself. */
  static internal(message) {
    return new _PluginError("internal", message);
  }
  /** This error as the contract's `error` variant. */
  toWit() {
    return { tag: this.kind, val: this.message };
  }
};
function host(call) {
  try {
    return call();
  } catch (thrown) {
    const payload = thrown?.payload;
    if (payload && typeof payload.tag === "string") {
      throw new PluginError(payload.tag, payload.val);
    }
    throw thrown;
  }
}
function toWitError(thrown) {
  if (thrown instanceof PluginError) {
    return thrown.toWit();
  }
  if (thrown instanceof Error) {
    return { tag: "internal", val: `${thrown.name}: ${thrown.message}` };
  }
  return { tag: "internal", val: String(thrown) };
}

// sdks/typescript/src/log.ts
var log_exports = {};
__export(log_exports, {
  debug: () => debug,
  error: () => error,
  info: () => info,
  warn: () => warn
});
import * as wit from "bazaar:platform/log@0.1.0";
function debug(message) {
  wit.write("debug", message);
}
function info(message) {
  wit.write("info", message);
}
function warn(message) {
  wit.write("warn", message);
}
function error(message) {
  wit.write("error", message);
}

// sdks/typescript/src/types.ts
var Event = class {
  /** Stable identifier: retries of the same delivery carry the same id. */
  id;
  /** `resource.action`, for example `task.completed`. */
  kind;
  orgId;
  /** The id of the project or task the event is about. */
  subjectId;
  /** RFC 3339 time. */
  occurredAt;
  /** The resource right after the change, as JSON text; {@link Event.payload} parses it. */
  payloadJson;
  constructor(event) {
    this.id = event.id;
    this.kind = event.kind;
    this.orgId = event.orgId;
    this.subjectId = event.subjectId;
    this.occurredAt = event.occurredAt;
    this.payloadJson = event.payload;
  }
  /** The resource right after the change (a task or a project, as the REST API shows it). */
  payload() {
    try {
      return JSON.parse(this.payloadJson);
    } catch (e) {
      throw PluginError.invalid(`the event's payload is not JSON: ${String(e)}`);
    }
  }
  /** What the event is about: `task` for `task.completed`. */
  resource() {
    return this.kind.split(".")[0];
  }
};

// sdks/typescript/src/text.ts
function utf8(text) {
  const bytes = [];
  for (const char of text) {
    const code = char.codePointAt(0);
    if (code < 128) {
      bytes.push(code);
    } else if (code < 2048) {
      bytes.push(192 | code >> 6, 128 | code & 63);
    } else if (code < 65536) {
      bytes.push(224 | code >> 12, 128 | code >> 6 & 63, 128 | code & 63);
    } else {
      bytes.push(
        240 | code >> 18,
        128 | code >> 12 & 63,
        128 | code >> 6 & 63,
        128 | code & 63
      );
    }
  }
  return new Uint8Array(bytes);
}
function fromUtf8(bytes) {
  let out = "";
  let i = 0;
  while (i < bytes.length) {
    const first = bytes[i];
    const extra = first < 128 ? 0 : first >= 240 ? 3 : first >= 224 ? 2 : first >= 192 ? 1 : -1;
    let code = extra <= 0 ? first : first & 63 >> extra;
    let valid = extra >= 0;
    for (let k = 1; valid && k <= extra; k++) {
      const next = bytes[i + k];
      valid = next !== void 0 && (next & 192) === 128;
      code = code << 6 | next & 63;
    }
    if (valid) {
      out += String.fromCodePoint(code);
      i += extra + 1;
    } else {
      out += "\uFFFD";
      i += 1;
    }
  }
  return out;
}

// sdks/typescript/src/config.ts
var config_exports = {};
__export(config_exports, {
  get: () => get2,
  require: () => require2
});
import * as wit2 from "bazaar:platform/config@0.1.0";
function get2(key) {
  return wit2.get(key);
}
function require2(key) {
  const value = wit2.get(key);
  if (value === null || value === "") {
    throw PluginError.invalid(`the configuration field \`${key}\` is not set`);
  }
  return value;
}

// sdks/typescript/src/kv.ts
var kv_exports = {};
__export(kv_exports, {
  delete: () => remove,
  get: () => get4,
  getJson: () => getJson,
  getText: () => getText,
  listKeys: () => listKeys2,
  set: () => set2,
  setJson: () => setJson,
  setText: () => setText
});
import * as wit3 from "bazaar:platform/kv@0.1.0";
function get4(key) {
  return host(() => wit3.get(key));
}
function set2(key, value) {
  host(() => wit3.set(key, value));
}
function remove(key) {
  host(() => wit3.delete(key));
}
function listKeys2(prefix, limit = 100) {
  return host(() => wit3.listKeys(prefix, limit));
}
function getText(key) {
  const bytes = get4(key);
  return bytes === null ? null : fromUtf8(bytes);
}
function setText(key, text) {
  set2(key, utf8(text));
}
function getJson(key) {
  const text = getText(key);
  return text === null ? null : JSON.parse(text);
}
function setJson(key, value) {
  setText(key, JSON.stringify(value));
}

// sdks/typescript/src/tasks.ts
var tasks_exports = {};
__export(tasks_exports, {
  complete: () => complete2,
  create: () => create2,
  get: () => get5,
  listByProject: () => listByProject,
  setLabels: () => setLabels2
});

// bazaar-ungranted:bazaar:platform/tasks@0.1.0
function stub0() {
  throw { "payload": { "tag": "forbidden", "val": "`bazaar:platform/tasks@0.1.0` needs the `tasks:read` scope, which this plugin's bazaar.toml does not ask for: add it to its [[scopes]] and build again" } };
}
function stub1() {
  throw { "payload": { "tag": "forbidden", "val": "`bazaar:platform/tasks@0.1.0` needs the `tasks:read` scope, which this plugin's bazaar.toml does not ask for: add it to its [[scopes]] and build again" } };
}

// sdks/typescript/src/tasks-write.ts
import * as wit4 from "bazaar:platform/tasks-write@0.1.0";
function create2(projectId, title, description = "", labels = []) {
  return host(() => wit4.create(projectId, title, description, labels));
}
function setLabels2(id, labels) {
  return host(() => wit4.setLabels(id, labels));
}
function complete2(id) {
  return host(() => wit4.complete(id));
}

// sdks/typescript/src/tasks.ts
function get5(id) {
  return host(() => stub0(id));
}
function listByProject(projectId, limit = 100) {
  return host(() => stub1(projectId, limit));
}

// sdks/typescript/src/index.ts
function definePlugin(plugin) {
  return {
    handler: {
      onEvent(event) {
        guard(() => plugin.onEvent?.(new Event(event)));
      }
    },
    hooks: {
      validateTask(task) {
        guard(() => plugin.validateTask?.(task));
      }
    }
  };
}
function guard(body) {
  try {
    body();
  } catch (thrown) {
    const error2 = toWitError(thrown);
    if (error2.tag === "internal" && thrown instanceof Error) {
      error(`${thrown.name}: ${thrown.message}
${thrown.stack ?? ""}`);
    }
    throw error2;
  }
}

// example-plugins/project-starter/src/plugin.ts
var DEFAULT_TASKS = ["Write the project brief", "Invite the team", "Plan the first milestone"];
function starterTasks(configured) {
  const lines = (configured ?? "").split("\n").map((line) => line.trim()).filter((line) => line.length > 0);
  return lines.length > 0 ? lines.slice(0, 20) : DEFAULT_TASKS;
}
var { handler, hooks } = definePlugin({
  onEvent(event) {
    if (event.kind !== "project.created") return;
    const project = event.payload();
    const mark = `started/${project.id}`;
    const done = kv_exports.getJson(mark) ?? [];
    for (const title of starterTasks(config_exports.get("tasks"))) {
      if (done.includes(title)) continue;
      tasks_exports.create(project.id, title, `Added by Project starter to ${project.name}.`, ["starter"]);
      done.push(title);
      kv_exports.setJson(mark, done);
    }
    log_exports.info(`${done.length} starter tasks in ${project.name}`);
  }
});
export {
  handler,
  hooks,
  starterTasks
};
