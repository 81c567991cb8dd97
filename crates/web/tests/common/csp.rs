//! What the Content-Security-Policy (`script-src 'self'`) would block in a page's HTML: an inline
//! `<script>` (one without `src`, other than a `type="application/json"` data block), an inline event
//! handler attribute (`onclick=` …), htmx's evaluated `hx-on` attributes and `javascript:` URLs.
//! Shared by the template scan here and the CLI's crawl of the demo's rendered pages.

/// Each violation found in `html`, with a little of the text around it.
pub fn inline_code(html: &str) -> Vec<String> {
    let lower = html.to_ascii_lowercase();
    let mut found = Vec::new();
    let excerpt = |at: usize| html.get(at..).unwrap_or("").chars().take(80).collect::<String>();
    let mut from = 0;
    while let Some(i) = lower[from..].find("<script") {
        let at = from + i;
        let tag_end = lower[at..].find('>').map_or(lower.len(), |e| at + e);
        let tag = &lower[at..tag_end];
        let data = tag.contains("type=\"application/json\"");
        if !tag.contains(" src=") && !data {
            found.push(format!("inline script: {}", excerpt(at)));
        }
        from = tag_end;
    }
    // Attributes: whitespace, `on` + letters, `=`, inside a tag.
    let bytes = lower.as_bytes();
    let mut in_tag = false;
    for (i, &c) in bytes.iter().enumerate() {
        match c {
            b'<' => in_tag = true,
            b'>' => in_tag = false,
            b' ' | b'\n' | b'\t' if in_tag => {
                let rest = &lower[i + 1..];
                let name: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-').collect();
                let handler =
                    name.len() > 2 && name.starts_with("on") && name[2..].chars().all(|c| c.is_ascii_lowercase());
                let assigned = rest[name.len()..].trim_start().starts_with('=');
                if (handler && assigned) || name.starts_with("hx-on") {
                    found.push(format!("inline handler: {}", excerpt(i + 1)));
                }
            }
            _ => {}
        }
    }
    for pat in ["href=\"javascript:", "src=\"javascript:", "action=\"javascript:"] {
        if let Some(i) = lower.find(pat) {
            found.push(format!("javascript: URL: {}", excerpt(i)));
        }
    }
    found
}
