//! Plugin UI at the runtime: `render` and `on-action` in fresh sandboxes under the hook budget,
//! with hostile renders stopped and reported, and components of each contract version told
//! apart.

use bazaar::runtime::Limits;
use bazaar::runtime::Outcome;
use bazaar::runtime::ui::{Block, Context, Surface};

use crate::guests::component;
use crate::support::{run, sandbox};

fn context(subject: &str) -> Context {
    Context {
        surface: Surface::TaskPanel,
        subject_id: subject.into(),
    }
}

#[tokio::test]
async fn hostile_renders_are_stopped_under_the_hook_budget_and_say_why() {
    let sandbox = sandbox().await;
    let prepared = sandbox
        .runtime
        .prepare(&component("test-plugin-hostile"))
        .unwrap();
    assert!(prepared.has_ui(), "the SDK exports the UI interface");
    let installation = sandbox.installation(&run(""));
    let render = |subject: &'static str| {
        let (runtime, prepared, installation) = (&sandbox.runtime, prepared.clone(), installation.clone());
        async move {
            runtime
                .render(&prepared, installation, Limits::HOOK, context(subject))
                .await
        }
    };

    let (report, blocks) = render("ui.ok").await;
    assert_eq!(report.outcome, Outcome::Ok, "{}", report.message);
    let blocks = blocks.unwrap();
    assert!(
        matches!(&blocks[..], [Block::Heading(h)] if h == "<script>alert('hostile')</script>"),
        "the blocks come back as the plugin made them (escaping is the page's job): {blocks:?}"
    );

    let (report, blocks) = render("ui.loop").await;
    assert!(
        matches!(report.outcome, Outcome::FuelExhausted | Outcome::Deadline),
        "an endless render is stopped: {:?}",
        report.outcome
    );
    assert!(blocks.is_none());
    assert!(
        report.log.iter().any(|l| l.message == "rendering forever"),
        "its log is kept"
    );

    for (subject, what) in [("ui.huge", "blocks"), ("ui.big-text", "bytes of text")] {
        let (report, blocks) = render(subject).await;
        assert!(
            matches!(&report.outcome, Outcome::LimitExceeded { message } if message.contains(what)),
            "{subject}: {:?}",
            report.outcome
        );
        assert!(blocks.is_none(), "{subject}: nothing of it reaches a page");
    }

    let (report, blocks) = render("ui.bad-utf8").await;
    assert!(blocks.is_none(), "no invalid string reaches a page");
    assert!(
        matches!(&report.outcome, Outcome::Trap { reason } if reason.contains("not valid UTF-8")),
        "{:?}",
        report.outcome
    );

    let (report, _) = render("ui.panic").await;
    assert_eq!(report.outcome.class(), "trap", "{}", report.message);
    assert!(
        report.message.contains("the panel gave up")
            || report.log.iter().any(|l| l.message.contains("the panel gave up"))
    );
}

#[tokio::test]
async fn a_component_without_ui_is_refused_a_render_and_0_1_0_components_have_none() {
    let sandbox = sandbox().await;
    let classic = sandbox
        .runtime
        .prepare(&component("test-plugin-contract-0-1"))
        .unwrap();
    assert_eq!(classic.contract, "0.1.0");
    assert!(!classic.has_ui());
    let (report, blocks) = sandbox
        .runtime
        .render(
            &classic,
            sandbox.installation(&run("tasks:read tasks:write")),
            Limits::HOOK,
            context("tsk_1"),
        )
        .await;
    assert!(blocks.is_none());
    assert!(
        matches!(&report.outcome, Outcome::Refused { message } if message.contains("has no UI")),
        "{:?}",
        report.outcome
    );
    let current = sandbox.runtime.prepare(&component("auto-labeller")).unwrap();
    assert_eq!(current.contract, "0.2.0");
}
