//! The limits on what a plugin's UI call returns, checked before any block reaches a page.

pub use super::bindings::ui::*;

/// The most blocks one render (or action reply) may return.
pub const MAX_BLOCKS: usize = 200;
/// The most text, summed over every string of the blocks, one render may return.
pub const MAX_TEXT_BYTES: usize = 64 << 10;
/// The longest notice an action may show.
pub const MAX_NOTICE_BYTES: usize = 1 << 10;

/// The surface's name in manifests and URLs (`task-panel`).
pub fn surface_name(surface: Surface) -> &'static str {
    match surface {
        Surface::TaskPanel => "task-panel",
        Surface::ProjectCard => "project-card",
        Surface::SettingsPage => "settings-page",
    }
}

/// Why these blocks are too big to show, if they are.
pub fn oversized(blocks: &[Block]) -> Option<String> {
    let count: usize = blocks.iter().map(|b| 1 + nested(b)).sum();
    if count > MAX_BLOCKS {
        return Some(format!(
            "the plugin returned {count} blocks, more than the limit of {MAX_BLOCKS}"
        ));
    }
    let bytes: usize = blocks.iter().map(text_bytes).sum();
    (bytes > MAX_TEXT_BYTES).then(|| {
        format!("the plugin returned {bytes} bytes of text, more than the limit of {MAX_TEXT_BYTES}")
    })
}

/// Why this notice is too long to show, if it is.
pub fn oversized_notice(text: &str) -> Option<String> {
    (text.len() > MAX_NOTICE_BYTES).then(|| {
        format!(
            "the plugin's notice is {} bytes, more than the limit of {MAX_NOTICE_BYTES}",
            text.len()
        )
    })
}

/// Rows, items and inputs count as blocks too: a single table of a million cells is as big as a
/// million blocks.
fn nested(block: &Block) -> usize {
    match block {
        Block::Fields(fields) => fields.len(),
        Block::Table(table) => table.rows.iter().map(|r| 1 + r.len()).sum(),
        Block::Bullets(items) => items.len(),
        Block::Form(form) => form.inputs.len(),
        _ => 0,
    }
}

fn text_bytes(block: &Block) -> usize {
    let button = |b: &Button| b.label.len() + b.action.len();
    match block {
        Block::Heading(t) | Block::Text(t) => t.len(),
        Block::Fields(fields) => fields.iter().map(|f| f.label.len() + f.value.len()).sum(),
        Block::Table(table) => {
            table.columns.iter().map(String::len).sum::<usize>()
                + table.rows.iter().flatten().map(String::len).sum::<usize>()
        }
        Block::Bullets(items) => items.iter().map(String::len).sum(),
        Block::Image(image) => image.url.len() + image.alt.len(),
        Block::Divider => 0,
        Block::Button(b) => button(b),
        Block::Form(form) => {
            button(&form.submit)
                + form
                    .inputs
                    .iter()
                    .map(|i| {
                        i.name.len()
                            + i.label.len()
                            + i.value.len()
                            + match &i.kind {
                                InputKind::Text(placeholder) => placeholder.len(),
                                InputKind::Select(choices) => {
                                    choices.iter().map(|c| c.value.len() + c.label.len()).sum()
                                }
                                InputKind::Toggle => 0,
                            }
                    })
                    .sum::<usize>()
        }
    }
}

/// Why a trigger's answer cannot be sent back, if it cannot: a status outside 200 to 599, or a
/// body larger than [`MAX_TEXT_BYTES`].
pub fn unfit_answer(answer: &super::bindings::triggers::Answer) -> Option<String> {
    if !(200..=599).contains(&answer.status) {
        return Some(format!(
            "the plugin answered with status {}, outside 200 to 599",
            answer.status
        ));
    }
    (answer.body.len() > MAX_TEXT_BYTES).then(|| {
        format!(
            "the plugin answered with {} bytes, more than the limit of {MAX_TEXT_BYTES}",
            answer.body.len()
        )
    })
}
