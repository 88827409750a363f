//! Plugin UI blocks to HTML. Every string a plugin returns is escaped here; the only markup it
//! can ask for is the block kinds themselves and `**bold**`, `*italic*`, `` `code` `` inside
//! text. Images come only from `https` URLs on the app's declared hosts. Buttons and forms post
//! to `/v1/installations/{id}/actions` through the page's script, with the session's CSRF token.

use super::esc;
use crate::catalog::manifest::ExtensionPoint;
use crate::installs::extensions::Rendered;
use crate::runtime::ui::{Block, Button, ButtonStyle, Form, InputKind};

/// The HTML id of an installation's region at a place.
pub fn region_id(installation_id: &str) -> String {
    format!("ext-{}", esc(installation_id))
}

/// One installation's region: its app's name, then its blocks or the placeholder.
pub fn region(rendered: &Rendered, point: ExtensionPoint, subject_id: &str, notice: Option<&str>) -> String {
    let id = region_id(&rendered.placed.installation_id);
    let notice = notice
        .map(|n| format!("<p class=\"notice\" role=\"status\">{}</p>", esc(n)))
        .unwrap_or_default();
    format!(
        "<section class=\"extension\" id=\"{id}\" aria-label=\"{app}\"><h2 class=\"app\">{app}</h2>{notice}{inner}</section>",
        app = esc(&rendered.placed.app_name),
        inner = inner(rendered, point, subject_id),
    )
}

/// The region's content alone (what an action replaces).
pub fn inner(rendered: &Rendered, point: ExtensionPoint, subject_id: &str) -> String {
    match &rendered.shown {
        Err(reason) => format!(
            "<p class=\"placeholder\">This app could not show its content: {}. The details are in its \
             <a href=\"/installed/{}?outcome=failed#invocations\">invocations</a>.</p>",
            esc(reason),
            esc(&rendered.placed.installation_id)
        ),
        Ok(blocks) if blocks.is_empty() => String::new(),
        Ok(blocks) => {
            let target = Target {
                installation_id: &rendered.placed.installation_id,
                point,
                subject_id,
                allowed_hosts: &rendered.allowed_hosts,
            };
            blocks.iter().map(|b| target.block(b)).collect()
        }
    }
}

/// Where the blocks' buttons post, and where their images may come from.
struct Target<'a> {
    installation_id: &'a str,
    point: ExtensionPoint,
    subject_id: &'a str,
    allowed_hosts: &'a [String],
}

impl Target<'_> {
    fn block(&self, block: &Block) -> String {
        match block {
            Block::Heading(text) => format!("<h3>{}</h3>", esc(text)),
            Block::Text(text) => format!("<p>{}</p>", formatted(text)),
            Block::Fields(fields) => {
                let items: String = fields
                    .iter()
                    .map(|f| format!("<dt>{}</dt><dd>{}</dd>", esc(&f.label), esc(&f.value)))
                    .collect();
                format!("<dl>{items}</dl>")
            }
            Block::Table(table) => {
                let head: String = table
                    .columns
                    .iter()
                    .map(|c| format!("<th>{}</th>", esc(c)))
                    .collect();
                let rows: String = table
                    .rows
                    .iter()
                    .map(|row| {
                        // Every row has the header's width: short rows are padded, long ones cut.
                        let cells: String = (0..table.columns.len())
                            .map(|i| {
                                format!("<td>{}</td>", esc(row.get(i).map(String::as_str).unwrap_or("")))
                            })
                            .collect();
                        format!("<tr>{cells}</tr>")
                    })
                    .collect();
                format!("<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
            }
            Block::Bullets(items) => {
                let items: String = items.iter().map(|i| format!("<li>{}</li>", esc(i))).collect();
                format!("<ul>{items}</ul>")
            }
            Block::Image(image) => match self.image_url(&image.url) {
                Some(url) => format!(
                    "<img src=\"{}\" alt=\"{}\" loading=\"lazy\" referrerpolicy=\"no-referrer\">",
                    esc(url.as_str()),
                    esc(&image.alt)
                ),
                None => format!(
                    "<p class=\"meta\">[image left out: only https images from the app's declared hosts are shown] {}</p>",
                    esc(&image.alt)
                ),
            },
            Block::Divider => "<hr>".to_owned(),
            Block::Button(button) => self.form(&[], button),
            Block::Form(form) => self.form_block(form),
        }
    }

    fn image_url(&self, url: &str) -> Option<url::Url> {
        let url = url::Url::parse(url).ok()?;
        let host = url.host_str()?;
        (url.scheme() == "https" && crate::policy::egress::host_allowed(host, self.allowed_hosts))
            .then_some(url)
    }

    fn form_block(&self, form: &Form) -> String {
        let inputs: Vec<String> = form
            .inputs
            .iter()
            .map(|input| {
                if !valid_name(&input.name) {
                    return format!(
                        "<p class=\"meta\">[input left out: its name must be 1 to 64 letters, digits, `-` or `_`] {}</p>",
                        esc(&input.label)
                    );
                }
                let name = format!("values.{}", input.name);
                let control = match &input.kind {
                    InputKind::Text(placeholder) => format!(
                        "<input name=\"{name}\" value=\"{}\" placeholder=\"{}\" data-keep-empty>",
                        esc(&input.value),
                        esc(placeholder)
                    ),
                    InputKind::Select(choices) => {
                        let options: String = choices
                            .iter()
                            .map(|c| {
                                let selected = if c.value == input.value { " selected" } else { "" };
                                format!("<option value=\"{}\"{selected}>{}</option>", esc(&c.value), esc(&c.label))
                            })
                            .collect();
                        format!("<select name=\"{name}\">{options}</select>")
                    }
                    InputKind::Toggle => {
                        let checked = if input.value == "true" { " checked" } else { "" };
                        format!("<input type=\"checkbox\" name=\"{name}\"{checked}>")
                    }
                };
                format!("<label>{} {control}</label>", esc(&input.label))
            })
            .collect();
        self.form(&inputs, &form.submit)
    }

    /// A form posting `button.action` (and `inputs`) to the installation's actions.
    fn form(&self, inputs: &[String], button: &Button) -> String {
        let class = match button.style {
            ButtonStyle::Primary => "",
            ButtonStyle::Secondary => " class=\"secondary\"",
            ButtonStyle::Danger => " class=\"danger\"",
        };
        format!(
            "<form class=\"extension-action\" data-api=\"POST /v1/installations/{id}/actions\" data-region=\"#{region}\">\
             <input type=\"hidden\" name=\"point\" value=\"{point}\"><input type=\"hidden\" name=\"subject_id\" value=\"{subject}\" data-keep-empty>\
             <input type=\"hidden\" name=\"action\" value=\"{action}\">{inputs}<button type=\"submit\"{class}>{label}</button>\
             <p role=\"alert\"></p></form>",
            id = esc(self.installation_id),
            region = region_id(self.installation_id),
            point = self.point.name(),
            subject = esc(self.subject_id),
            action = esc(&button.action),
            inputs = inputs.concat(),
            label = esc(&button.label),
        )
    }
}

/// Whether a form input's name is safe as a field name (`values.NAME`, one level deep).
fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Text with `**bold**`, `*italic*` and `` `code` `` shown as such; everything else escaped.
/// A marker without its closing twin, or with a space just inside, stays as typed.
pub fn formatted(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        let marked = [("**", "strong"), ("`", "code"), ("*", "em")]
            .into_iter()
            .find_map(|(marker, tag)| {
                let inner = rest.strip_prefix(marker)?;
                let end = inner.find(marker).filter(|end| *end > 0)?;
                let inner = &inner[..end];
                // As in Markdown, `2 * 3 * 4` is no emphasis: no space just inside the markers.
                let tight = !inner.starts_with(char::is_whitespace) && !inner.ends_with(char::is_whitespace);
                tight.then_some((marker, tag, inner))
            });
        match marked {
            Some((marker, tag, inner)) => {
                out.push_str(&format!("<{tag}>{}</{tag}>", esc(inner)));
                rest = &rest[2 * marker.len() + inner.len()..];
            }
            None => {
                let c = rest.chars().next().unwrap_or_default();
                out.push_str(&esc(c.encode_utf8(&mut [0; 4])));
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::installs::extensions::Placed;
    use crate::runtime::ui::{Field, Image, Input, Table};

    fn rendered(blocks: Vec<Block>) -> String {
        let rendered = Rendered {
            placed: Placed {
                installation_id: "ins_1".into(),
                app_name: "<b>Stats</b>".into(),
            },
            allowed_hosts: vec!["cdn.example.com".into()],
            shown: Ok(blocks),
        };
        region(&rendered, ExtensionPoint::TaskPanel, "tsk_1", None)
    }

    #[test]
    fn every_plugin_string_is_shown_as_text() {
        let html = rendered(vec![
            Block::Heading("<script>alert(1)</script>".into()),
            Block::Text("<img src=x onerror=alert(1)> **bold** *it* `<code>`".into()),
            Block::Fields(vec![Field {
                label: "\"><script>".into(),
                value: "<i>v</i>".into(),
            }]),
            Block::Table(Table {
                columns: vec!["<th>".into()],
                rows: vec![vec!["<td>".into(), "extra cell".into()], vec![]],
            }),
            Block::Bullets(vec!["<li>".into()]),
        ]);
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(!html.contains("<i>"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{html}");
        assert!(
            html.contains("<strong>bold</strong> <em>it</em> <code>&lt;code&gt;</code>"),
            "{html}"
        );
        assert!(html.contains("aria-label=\"&lt;b&gt;Stats&lt;/b&gt;\""), "{html}");
        assert!(
            !html.contains("extra cell"),
            "rows are cut to the header's width: {html}"
        );
        assert_eq!(html.matches("<td>").count(), 2, "a short row is padded: {html}");
    }

    #[test]
    fn formatting_markers_without_a_twin_stay_as_typed() {
        assert_eq!(formatted("2 * 3 = 6, **not bold"), "2 * 3 = 6, **not bold");
        assert_eq!(formatted("a ** b"), "a ** b");
        assert_eq!(formatted("2 * 3 * 4"), "2 * 3 * 4");
        assert_eq!(formatted("`x` & é"), "<code>x</code> &amp; é");
    }

    #[test]
    fn images_come_only_from_declared_https_hosts() {
        let image = |url: &str| {
            Block::Image(Image {
                url: url.into(),
                alt: "chart".into(),
            })
        };
        let html = rendered(vec![
            image("https://cdn.example.com/chart.png"),
            image("http://cdn.example.com/plain.png"),
            image("https://evil.example.net/track.png"),
            image("javascript:alert(1)"),
        ]);
        assert_eq!(html.matches("<img").count(), 1, "{html}");
        assert!(html.contains("src=\"https://cdn.example.com/chart.png\""));
        assert!(
            !html.contains("evil.example.net") && !html.contains("javascript:"),
            "{html}"
        );
    }

    #[test]
    fn forms_post_to_the_installation_with_safe_field_names() {
        let html = rendered(vec![Block::Form(Form {
            inputs: vec![
                Input {
                    name: "note".into(),
                    label: "Note".into(),
                    kind: InputKind::Text("say \"hi\"".into()),
                    value: "".into(),
                },
                Input {
                    name: "config.secret".into(),
                    label: "Sneaky".into(),
                    kind: InputKind::Toggle,
                    value: "true".into(),
                },
            ],
            submit: Button {
                label: "Save".into(),
                action: "save\"><script>".into(),
                style: ButtonStyle::Danger,
            },
        })]);
        assert!(
            html.contains("data-api=\"POST /v1/installations/ins_1/actions\""),
            "{html}"
        );
        assert!(html.contains("name=\"values.note\""), "{html}");
        assert!(
            !html.contains("config.secret\""),
            "an input name cannot nest elsewhere: {html}"
        );
        assert!(html.contains("value=\"save&quot;&gt;&lt;script&gt;\""), "{html}");
        assert!(html.contains("placeholder=\"say &quot;hi&quot;\""), "{html}");
    }

    #[test]
    fn a_failed_render_shows_a_placeholder_that_points_to_the_failed_invocations() {
        let rendered = Rendered {
            placed: Placed {
                installation_id: "ins_9".into(),
                app_name: "Slow".into(),
            },
            allowed_hosts: Vec::new(),
            shown: Err("the plugin ran past its time limit".into()),
        };
        let html = region(&rendered, ExtensionPoint::ProjectCard, "prj_1", None);
        assert!(html.contains("could not show its content: the plugin ran past its time limit"));
        assert!(html.contains("href=\"/installed/ins_9?outcome=failed#invocations\""));
    }
}
