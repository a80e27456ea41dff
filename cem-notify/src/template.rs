//! The template syntax: text with named placeholders `{name}`; `{{` and `}}` write a brace.
//!
//! A template is filled in one pass, so a value that itself contains braces (a branch called
//! `{Main}`) is written as it is and never read as a placeholder.

/// One piece of a parsed template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Piece<'a> {
    /// Text written as it is.
    Text(&'a str),
    /// A placeholder's name.
    Placeholder(&'a str),
}

/// Splits a template into text and placeholders.
///
/// Errors with a description when a brace is not closed, a `}` stands alone, or a name is empty
/// or not made of lowercase ASCII letters, digits and underscores.
pub(crate) fn parse(template: &str) -> Result<Vec<Piece<'_>>, String> {
    let mut pieces = Vec::new();
    let mut rest = template;
    while let Some(at) = rest.find(['{', '}']) {
        if at > 0 {
            pieces.push(Piece::Text(&rest[..at]));
        }
        let tail = &rest[at..];
        if let Some(after) = tail.strip_prefix("{{") {
            pieces.push(Piece::Text("{"));
            rest = after;
        } else if let Some(after) = tail.strip_prefix("}}") {
            pieces.push(Piece::Text("}"));
            rest = after;
        } else if tail.starts_with('}') {
            return Err(format!("a lone `}}` at byte {at}"));
        } else {
            let close = tail
                .find('}')
                .ok_or_else(|| format!("a `{{` at byte {at} is never closed"))?;
            let name = &tail[1..close];
            let valid = !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            if !valid {
                return Err(format!("`{{{name}}}` is not a placeholder name"));
            }
            pieces.push(Piece::Placeholder(name));
            rest = &tail[close + 1..];
        }
    }
    if !rest.is_empty() {
        pieces.push(Piece::Text(rest));
    }
    Ok(pieces)
}

/// Fills parsed pieces with `values`; errors with the name of a placeholder that has no value.
pub(crate) fn fill<'a>(pieces: &[Piece<'a>], values: &[(&str, String)]) -> Result<String, &'a str> {
    let mut out = String::new();
    for piece in pieces {
        match *piece {
            Piece::Text(text) => out.push_str(text),
            Piece::Placeholder(name) => {
                let value = values
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| v)
                    .ok_or(name)?;
                out.push_str(value);
            }
        }
    }
    Ok(out)
}

/// The literal text of a parsed template, placeholders left out.
pub(crate) fn literal_text<'a>(pieces: &[Piece<'a>]) -> impl Iterator<Item = &'a str> {
    pieces.iter().filter_map(|p| match *p {
        Piece::Text(text) => Some(text),
        Piece::Placeholder(_) => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_placeholders_text_and_escaped_braces() {
        let pieces = parse("{display}, go to {counter} {{sic}}").unwrap();
        assert_eq!(
            pieces,
            vec![
                Piece::Placeholder("display"),
                Piece::Text(", go to "),
                Piece::Placeholder("counter"),
                Piece::Text(" "),
                Piece::Text("{"),
                Piece::Text("sic"),
                Piece::Text("}"),
            ]
        );
    }

    #[test]
    fn refuses_broken_braces() {
        assert!(parse("go to {counter").is_err());
        assert!(parse("go to counter}").is_err());
        assert!(parse("go to {}").is_err());
        assert!(parse("go to {Counter}").is_err());
        assert!(parse("go to { counter }").is_err());
    }

    #[test]
    fn fills_in_one_pass() {
        let pieces = parse("{branch}: {display}").unwrap();
        let values = [
            ("branch", "{display}".to_owned()),
            ("display", "A-042".to_owned()),
        ];
        assert_eq!(fill(&pieces, &values).unwrap(), "{display}: A-042");
        assert_eq!(fill(&pieces, &values[1..]), Err("branch"));
    }
}
