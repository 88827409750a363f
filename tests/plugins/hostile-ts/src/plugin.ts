// Misbehaves as the event's kind says; `test.ok` behaves.
import { definePlugin, fromUtf8, kv, log, PluginError, tasks, triggers as answer } from "bazaar-sdk";

let calls = 0;

function recurse(n: number): number {
  return recurse(n + 1) + 1;
}

export const { handler, hooks, triggers } = definePlugin({
  // The echo trigger says what it got; `loop` never answers.
  onRequest(request) {
    if (request.trigger === "loop") for (;;) {}
    return answer.json(201, {
      trigger: request.trigger,
      method: request.method,
      event: answer.header(request, "x-event"),
      body: fromUtf8(request.body),
    });
  },
  onEvent(event) {
    calls += 1;
    switch (event.kind) {
      case "test.loop":
        for (;;) {}
      case "test.alloc": {
        const hoard: number[][] = [];
        for (;;) hoard.push(new Uint8Array(1 << 20));
      }
      case "test.recurse":
        recurse(0);
        return;
      case "test.throw":
        throw new TypeError("the plugin's own bug");
      case "test.unavailable":
        throw PluginError.unavailable("the vendor is down; try again later");
      case "test.kv":
        kv.setText("seen", event.id);
        return;
      case "test.unscoped":
        // tasks:read is not in this plugin's manifest: the build left the interface out.
        tasks.get(event.subjectId);
        return;
      case "test.count":
        log.info(`calls=${calls}`);
        return;
      default:
        log.info(`ok ${event.kind}`);
    }
  },
});
