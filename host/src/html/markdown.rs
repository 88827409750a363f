//! A developer's long description in Markdown, rendered to inert HTML: only an allow-list of
//! elements is written, every text is escaped, raw HTML in the source shows as text, links go
//! only to `https:`, `http:` and `mailto:` addresses (with `rel="nofollow noopener"`), and
//! images are not rendered (screenshots are uploaded and checked instead).

use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};

use super::esc;

/// The longest source rendered; the manifest allows 20,000 characters.
const MAX_SOURCE: usize = 20_000;

fn safe_link(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("http://") || lower.starts_with("mailto:")
}

/// Headings start at `h3`: the page has its own `h1` and section `h2`s.
fn heading(level: HeadingLevel) -> &'static str {
    match level {
        HeadingLevel::H1 => "h3",
        HeadingLevel::H2 => "h4",
        HeadingLevel::H3 => "h5",
        _ => "h6",
    }
}

/// Renders `source` to HTML safe to put in a page.
pub fn render(source: &str) -> String {
    let mut end = source.len().min(MAX_SOURCE);
    while !source.is_char_boundary(end) {
        end -= 1;
    }
    let mut options = Options::empty();
    options.insert(Options::ENABLE_TABLES);
    options.insert(Options::ENABLE_STRIKETHROUGH);
    let mut out = String::with_capacity(end + end / 4);
    // What each open link wrote, to close it the same way (`</a>` or nothing).
    let mut links: Vec<bool> = Vec::new();
    let mut in_image = 0usize;
    let mut table_head = false;
    for event in Parser::new_ext(&source[..end], options) {
        if in_image > 0 {
            // An image's alternative text shows as text; the image is not loaded.
            match event {
                Event::Start(Tag::Image { .. }) => in_image += 1,
                Event::End(TagEnd::Image) => in_image -= 1,
                Event::Text(text) | Event::Code(text) => out.push_str(&esc(&text)),
                _ => {}
            }
            continue;
        }
        match event {
            Event::Start(tag) => match tag {
                Tag::Paragraph => out.push_str("<p>"),
                Tag::Heading { level, .. } => out.push_str(&format!("<{}>", heading(level))),
                Tag::BlockQuote(_) => out.push_str("<blockquote>"),
                Tag::CodeBlock(_) => out.push_str("<pre><code>"),
                Tag::List(Some(1)) => out.push_str("<ol>"),
                Tag::List(Some(start)) => out.push_str(&format!("<ol start=\"{start}\">")),
                Tag::List(None) => out.push_str("<ul>"),
                Tag::Item => out.push_str("<li>"),
                Tag::Emphasis => out.push_str("<em>"),
                Tag::Strong => out.push_str("<strong>"),
                Tag::Strikethrough => out.push_str("<del>"),
                Tag::Table(_) => out.push_str("<table>"),
                Tag::TableHead => {
                    table_head = true;
                    out.push_str("<thead><tr>");
                }
                Tag::TableRow => out.push_str("<tr>"),
                Tag::TableCell => out.push_str(if table_head { "<th>" } else { "<td>" }),
                Tag::Link { dest_url, .. } => {
                    let safe = safe_link(&dest_url);
                    if safe {
                        out.push_str(&format!(
                            "<a href=\"{}\" rel=\"nofollow noopener\">",
                            esc(&dest_url)
                        ));
                    }
                    links.push(safe);
                }
                Tag::Image { .. } => in_image = 1,
                _ => {}
            },
            Event::End(tag) => match tag {
                TagEnd::Paragraph => out.push_str("</p>"),
                TagEnd::Heading(level) => out.push_str(&format!("</{}>", heading(level))),
                TagEnd::BlockQuote(_) => out.push_str("</blockquote>"),
                TagEnd::CodeBlock => out.push_str("</code></pre>"),
                TagEnd::List(true) => out.push_str("</ol>"),
                TagEnd::List(false) => out.push_str("</ul>"),
                TagEnd::Item => out.push_str("</li>"),
                TagEnd::Emphasis => out.push_str("</em>"),
                TagEnd::Strong => out.push_str("</strong>"),
                TagEnd::Strikethrough => out.push_str("</del>"),
                TagEnd::Table => out.push_str("</tbody></table>"),
                TagEnd::TableHead => {
                    table_head = false;
                    out.push_str("</tr></thead><tbody>");
                }
                TagEnd::TableRow => out.push_str("</tr>"),
                TagEnd::TableCell => out.push_str(if table_head { "</th>" } else { "</td>" }),
                TagEnd::Link if links.pop().unwrap_or(false) => out.push_str("</a>"),
                _ => {}
            },
            Event::Text(text) => out.push_str(&esc(&text)),
            Event::Code(text) => out.push_str(&format!("<code>{}</code>", esc(&text))),
            // Raw HTML is shown as the text it is.
            Event::Html(html) | Event::InlineHtml(html) => out.push_str(&esc(&html)),
            Event::SoftBreak => out.push('\n'),
            Event::HardBreak => out.push_str("<br>"),
            Event::Rule => out.push_str("<hr>"),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formatting_renders_and_headings_fit_under_the_page() {
        let html = render(
            "# Setup\n\nUse **bold**, _em_, `code` and a [guide](https://example.com/guide).\n\n- one\n- two\n",
        );
        assert!(html.contains("<h3>Setup</h3>"), "{html}");
        assert!(
            html.contains("<strong>bold</strong>") && html.contains("<em>em</em>"),
            "{html}"
        );
        assert!(html.contains("<code>code</code>"), "{html}");
        assert!(
            html.contains("<a href=\"https://example.com/guide\" rel=\"nofollow noopener\">guide</a>"),
            "{html}"
        );
        assert!(html.contains("<ul><li>one</li>"), "{html}");
    }

    #[test]
    fn html_in_the_source_is_shown_as_text() {
        let html =
            render("Hi <script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n<b onclick=\"x\">b</b>");
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(!html.contains("<b "), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
    }

    #[test]
    fn only_web_and_mail_links_become_links() {
        for bad in [
            "[x](javascript:alert(1))",
            "[x](JAVASCRIPT:alert(1))",
            "[x]( javascript:alert(1))",
            "[x](data:text/html,<script>alert(1)</script>)",
            "[x](vbscript:msgbox)",
            "<javascript:alert(1)>",
        ] {
            let html = render(bad);
            assert!(!html.contains("<a "), "{bad} became {html}");
        }
        assert!(render("[mail](mailto:help@example.com)").contains("href=\"mailto:help@example.com\""));
        assert!(render("<https://example.com>").contains("href=\"https://example.com\""));
    }

    #[test]
    fn images_show_their_text_only_and_quotes_cannot_break_out() {
        let html = render("![a \"cat\"](https://evil.example/track.png)");
        assert!(!html.contains("<img") && !html.contains("evil.example"), "{html}");
        assert!(html.contains("a &quot;cat&quot;"), "its text, escaped: {html}");
        let html = render("[x](https://example.com/\"onmouseover=\"alert(1))");
        assert!(!html.contains("\"onmouseover"), "{html}");
    }
}
