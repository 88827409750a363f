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
import * as wit from "bazaar:platform/log@0.1.0";
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

// example-plugins/title-policy/src/plugin.ts
var PLACEHOLDERS = ["TODO", "FIXME", "TBD", "XXX"];
function problem(title, minLength2) {
  const trimmed = title.trim();
  if ([...trimmed].length < minLength2) {
    return `a task title needs at least ${minLength2} characters`;
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
function minLength() {
  const configured = Number.parseInt(config_exports.get("min_length") ?? "", 10);
  return Number.isFinite(configured) && configured > 0 ? configured : 5;
}
var { handler, hooks } = definePlugin({
  validateTask(task) {
    const why = problem(task.title, minLength());
    if (why !== null) {
      throw PluginError.invalid(why);
    }
  }
});
export {
  handler,
  hooks,
  problem
};
