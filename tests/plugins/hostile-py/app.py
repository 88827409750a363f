"""Misbehaves as the event's kind says; ``test.ok`` behaves."""

from bazaar_sdk import Event, Plugin, PluginError, export, export_triggers, kv, log, tasks, triggers

calls = 0


def recurse(n: int) -> int:
    return recurse(n + 1) + 1


class Hostile(Plugin):
    def on_event(self, event: Event) -> None:
        global calls
        calls += 1
        kind = event.kind
        if kind == "test.loop":
            while True:
                pass
        elif kind == "test.alloc":
            hoard = []
            while True:
                hoard.append(bytearray(1 << 20))
        elif kind == "test.recurse":
            recurse(0)
        elif kind == "test.throw":
            raise TypeError("the plugin's own bug")
        elif kind == "test.unavailable":
            raise PluginError.unavailable("the vendor is down; try again later")
        elif kind == "test.kv":
            kv.set("seen", event.id.encode())
        elif kind == "test.unscoped":
            # tasks:read is not in this plugin's manifest: the build left the interface out.
            tasks.get(event.subject_id)
        elif kind == "test.count":
            log.info(f"calls={calls}")
        else:
            log.info(f"ok {kind}")


    def on_request(self, request):
        """The echo trigger says what it got; ``loop`` never answers."""
        if request.trigger == "loop":
            while True:
                pass
        return triggers.json(
            201,
            {
                "trigger": request.trigger,
                "method": request.method,
                "event": triggers.header(request, "x-event"),
                "body": bytes(request.body).decode(),
            },
        )


Handler, Hooks = export(Hostile())
Triggers = export_triggers(Hostile())
