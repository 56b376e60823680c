//! Go `regexp` (RE2) syntax for the `regex` crate, which reads almost the
//! same language. Rewritten here: the Perl classes `\d \w \s \b` (ASCII in
//! Go, Unicode in Rust), `\Q…\E` literals, a `{` that does not start a
//! repetition (a literal in Go), and `[` `&` `~` inside a class (literals in
//! Go, set syntax in Rust).

const DIGIT: &str = "0-9";
const WORD: &str = "0-9A-Za-z_";
const SPACE: &str = r"\t\n\f\r ";

/// The Rust spelling of Go pattern `p`. Invalid patterns stay invalid.
pub fn translate(p: &str) -> String {
    let mut out = String::with_capacity(p.len() + 8);
    let chars: Vec<char> = p.chars().collect();
    let mut in_class = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' if i + 1 < chars.len() => {
                let n = chars[i + 1];
                i += 2;
                if n == 'Q' && !in_class {
                    let mut lit = String::new();
                    while i < chars.len() && !(chars[i] == '\\' && chars.get(i + 1) == Some(&'E')) {
                        lit.push(chars[i]);
                        i += 1;
                    }
                    i += 2;
                    out.push_str(&regex::escape(&lit));
                    continue;
                }
                out.push_str(&perl_class(n, in_class).unwrap_or_else(|| format!("\\{n}")));
                continue;
            }
            '[' if !in_class => {
                in_class = true;
                out.push('[');
                i += 1;
                if chars.get(i) == Some(&'^') {
                    out.push('^');
                    i += 1;
                }
                // A `]` first in a class is a literal.
                if chars.get(i) == Some(&']') {
                    out.push_str("\\]");
                    i += 1;
                }
                continue;
            }
            '[' if chars.get(i + 1) == Some(&':') => {
                // `[:alpha:]` inside a class: copy through its `:]`.
                let rest: String = chars[i..].iter().collect();
                let len = rest.find(":]").map_or(1, |k| rest[..k + 2].chars().count());
                out.extend(&chars[i..i + len]);
                i += len;
                continue;
            }
            '[' | '&' | '~' if in_class => out.push_str(&format!("\\{c}")),
            ']' if in_class => {
                in_class = false;
                out.push(']');
            }
            '{' if !in_class && !is_repeat(&chars[i..]) => out.push_str("\\{"),
            c => out.push(c),
        }
        i += 1;
    }
    out
}

/// `\d`-style classes as Go means them (ASCII only).
fn perl_class(n: char, in_class: bool) -> Option<String> {
    let (set, negated) = match n {
        'd' => (DIGIT, false),
        'D' => (DIGIT, true),
        'w' => (WORD, false),
        'W' => (WORD, true),
        's' => (SPACE, false),
        'S' => (SPACE, true),
        'b' | 'B' if !in_class => return Some(format!("(?-u:\\{n})")),
        _ => return None,
    };
    Some(match (negated, in_class) {
        (false, true) => set.to_string(),
        (false, false) => format!("[{set}]"),
        (true, _) => format!("[^{set}]"),
    })
}

/// Whether `{…` is a repetition: `{n}`, `{n,}` or `{n,m}`.
fn is_repeat(s: &[char]) -> bool {
    let digits = |k: usize| s[k..].iter().take_while(|c| c.is_ascii_digit()).count();
    let mut k = 1;
    let n = digits(k);
    if n == 0 {
        return false;
    }
    k += n;
    if s.get(k) == Some(&',') {
        k += 1;
        k += digits(k);
    }
    s.get(k) == Some(&'}')
}

#[cfg(test)]
mod tests {
    use super::translate;

    #[test]
    fn rewrites() {
        assert_eq!(translate(r"truck\d+"), r"truck[0-9]+");
        assert_eq!(translate(r"[\w-]\S"), r"[0-9A-Za-z_-][^\t\n\f\r ]");
        assert_eq!(translate(r"\bx\\d"), r"(?-u:\b)x\\d");
        assert_eq!(translate(r"a{b}c{2,}"), r"a\{b}c{2,}");
        assert_eq!(translate(r"[[:alpha:][]"), r"[[:alpha:]\[]");
        assert_eq!(translate(r"\Qa.b\E+"), r"a\.b+");
        assert_eq!(translate(r"[]a]"), r"[\]a]");
        assert_eq!(translate("(*"), "(*");
    }
}
