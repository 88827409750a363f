//! UI in Bazaar's pages: blocks the host renders itself (contract 0.2.0 on).
//!
//! Name the places in the manifest (`ui = ["task-panel"]`), then implement
//! [`Plugin::render`](crate::Plugin::render) and, for buttons,
//! [`Plugin::on_action`](crate::Plugin::on_action). Every string is shown as text (escaped by
//! the host): no HTML or script of the plugin reaches the page. `**bold**`, `*italic*` and
//! `` `code` `` in [`text`] are the only formatting.
//!
//! ```ignore
//! use bazaar_sdk::ui::{self, Block, Context, Reply, Values};
//!
//! fn render(context: Context) -> Result<Vec<Block>, bazaar_sdk::Error> {
//!     Ok(vec![
//!         ui::heading("Triage"),
//!         ui::text("Labels are suggested from the title."),
//!         ui::button("Suggest labels", "suggest"),
//!     ])
//! }
//! ```

pub use crate::wit::bazaar::platform::ui::{
    Block, Button, ButtonStyle, Choice, Context, Field, Form, Image, Input, InputKind, Reply, Surface, Table,
};

/// The values of the form a person sent with an action, by input name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Values(pub Vec<(String, String)>);

impl Values {
    /// The value of the input named `name`, if the form had one.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// Whether the toggle named `name` was on.
    pub fn is_on(&self, name: &str) -> bool {
        self.get(name) == Some("true")
    }
}

/// A heading.
pub fn heading(text: impl Into<String>) -> Block {
    Block::Heading(text.into())
}

/// A paragraph; `**bold**`, `*italic*` and `` `code` `` are shown as such.
pub fn text(text: impl Into<String>) -> Block {
    Block::Text(text.into())
}

/// Labels and their values.
pub fn fields<L: Into<String>, V: Into<String>>(pairs: impl IntoIterator<Item = (L, V)>) -> Block {
    Block::Fields(
        pairs
            .into_iter()
            .map(|(label, value)| Field {
                label: label.into(),
                value: value.into(),
            })
            .collect(),
    )
}

/// A table: its column names, then its rows.
pub fn table(columns: &[&str], rows: Vec<Vec<String>>) -> Block {
    Block::Table(Table {
        columns: columns.iter().map(|c| (*c).to_owned()).collect(),
        rows,
    })
}

/// A bulleted list.
pub fn bullets<S: Into<String>>(items: impl IntoIterator<Item = S>) -> Block {
    Block::Bullets(items.into_iter().map(Into::into).collect())
}

/// A button that calls `on_action` with `action`.
pub fn button(label: impl Into<String>, action: impl Into<String>) -> Block {
    Block::Button(Button {
        label: label.into(),
        action: action.into(),
        style: ButtonStyle::Primary,
    })
}

/// A text input for a [`Form`].
pub fn text_input(name: impl Into<String>, label: impl Into<String>, value: impl Into<String>) -> Input {
    Input {
        name: name.into(),
        label: label.into(),
        kind: InputKind::Text(String::new()),
        value: value.into(),
    }
}

/// A form: its inputs and the button that sends them to `on_action` with `action`.
pub fn form(inputs: Vec<Input>, submit_label: impl Into<String>, action: impl Into<String>) -> Block {
    Block::Form(Form {
        inputs,
        submit: Button {
            label: submit_label.into(),
            action: action.into(),
            style: ButtonStyle::Primary,
        },
    })
}
