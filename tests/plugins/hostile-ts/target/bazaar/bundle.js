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

// sdks/typescript/src/kv.ts
var kv_exports = {};
__export(kv_exports, {
  delete: () => remove,
  get: () => get2,
  getJson: () => getJson,
  getText: () => getText,
  listKeys: () => listKeys2,
  set: () => set2,
  setJson: () => setJson,
  setText: () => setText
});
import * as wit2 from "bazaar:platform/kv@0.1.0";
function get2(key) {
  return host(() => wit2.get(key));
}
function set2(key, value) {
  host(() => wit2.set(key, value));
}
function remove(key) {
  host(() => wit2.delete(key));
}
function listKeys2(prefix, limit = 100) {
  return host(() => wit2.listKeys(prefix, limit));
}
function getText(key) {
  const bytes = get2(key);
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
  complete: () => complete,
  create: () => create,
  get: () => get3,
  listByProject: () => listByProject,
  setLabels: () => setLabels
});

// bazaar-ungranted:bazaar:platform/tasks@0.1.0
function stub0() {
  throw { "payload": { "tag": "forbidden", "val": "`bazaar:platform/tasks@0.1.0` needs the `tasks:read` scope, which this plugin's bazaar.toml does not ask for: add it to its [[scopes]] and build again" } };
}
function stub1() {
  throw { "payload": { "tag": "forbidden", "val": "`bazaar:platform/tasks@0.1.0` needs the `tasks:read` scope, which this plugin's bazaar.toml does not ask for: add it to its [[scopes]] and build again" } };
}

// bazaar-ungranted:bazaar:platform/tasks-write@0.1.0
function stub02() {
  throw { "payload": { "tag": "forbidden", "val": "`bazaar:platform/tasks-write@0.1.0` needs the `tasks:write` scope, which this plugin's bazaar.toml does not ask for: add it to its [[scopes]] and build again" } };
}
function stub12() {
  throw { "payload": { "tag": "forbidden", "val": "`bazaar:platform/tasks-write@0.1.0` needs the `tasks:write` scope, which this plugin's bazaar.toml does not ask for: add it to its [[scopes]] and build again" } };
}
function stub2() {
  throw { "payload": { "tag": "forbidden", "val": "`bazaar:platform/tasks-write@0.1.0` needs the `tasks:write` scope, which this plugin's bazaar.toml does not ask for: add it to its [[scopes]] and build again" } };
}

// sdks/typescript/src/tasks-write.ts
function create(projectId, title, description = "", labels = []) {
  return host(() => stub02(projectId, title, description, labels));
}
function setLabels(id, labels) {
  return host(() => stub12(id, labels));
}
function complete(id) {
  return host(() => stub2(id));
}

// sdks/typescript/src/tasks.ts
function get3(id) {
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

// tests/plugins/hostile-ts/src/plugin.ts
var calls = 0;
function recurse(n) {
  return recurse(n + 1) + 1;
}
var { handler, hooks } = definePlugin({
  onEvent(event) {
    calls += 1;
    switch (event.kind) {
      case "test.loop":
        for (; ; ) {
        }
      case "test.alloc": {
        const hoard = [];
        for (; ; ) hoard.push(new Uint8Array(1 << 20));
      }
      case "test.recurse":
        recurse(0);
        return;
      case "test.throw":
        throw new TypeError("the plugin's own bug");
      case "test.unavailable":
        throw PluginError.unavailable("the vendor is down; try again later");
      case "test.kv":
        kv_exports.setText("seen", event.id);
        return;
      case "test.unscoped":
        tasks_exports.get(event.subjectId);
        return;
      case "test.count":
        log_exports.info(`calls=${calls}`);
        return;
      default:
        log_exports.info(`ok ${event.kind}`);
    }
  }
});
export {
  handler,
  hooks
};
