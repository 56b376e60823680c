//! `WHERE <expression>`: Tile38 1.37's JavaScript-like filter expressions,
//! a port of the behaviour of tidwall/expr (v0.14) as Tile38 configures it.
//!
//! Wire syntax (one argument after `WHERE`, e.g.
//! `SCAN fleet WHERE "speed > 5 && properties.name =~ 'truck.*'" IDS`):
//!
//! * literals: numbers (`10`, `.5`, `1e3`, `0xff`), strings in `'…'`, `"…"`
//!   or `` `…` `` with JavaScript escapes, `true` `false` `null`
//!   `undefined` `NaN` `Infinity`;
//! * names: `this`, GeoJSON members (`properties`), `id`, `type`, fields;
//!   members with `.name`, `?.name` or `[expr]` (a GJSON path into JSON);
//!   `value.match('glob*')`;
//! * operators, loosest first: `,` · `?:` · `||` `??` · `&&` ·
//!   `==` `!=` `===` `!==` `=~` (with `!` prefixes) · `<` `<=` `>` `>=` ·
//!   `+` `-` (and unary signs) · `*` `/` `%` · parentheses.
//!
//! The expression is parsed once per command ([`Expr::parse`]) and
//! evaluated per candidate ([`Expr::matches`]) without allocating for
//! numbers, strings and field or property lookups. A candidate matches when
//! the value is truthy; a syntax error, an invalid regex or any other
//! evaluation error means no match, never an error reply (Tile38 logs it and
//! moves on). Strings compare ignoring ASCII case (Tile38 sets `NoCase`).
//!
//! Modules: [`lex`] (characters, strings, group extents), [`parse`] (the
//! precedence levels, split the way tidwall/expr splits), [`value`]
//! (conversions and operators), [`eval`] (evaluation and name resolution),
//! [`json`] (reading stored JSON in place), [`goregex`] (Go regexp syntax).
//!
//! Limits of the port: nesting deeper than [`lex::MAX_DEPTH`] brackets or
//! `?:` levels never matches (tidwall/expr has no limit); `i64`/`u64` number
//! suffixes and the bitwise operators of newer tidwall/expr versions are not
//! supported (syntax errors).

mod eval;
mod goregex;
mod json;
mod lex;
mod parse;
mod value;

#[cfg(test)]
mod tests;

use tile38_collection::Item;

/// The raw value of the top-level member `key` of stored JSON object text
/// given without its braces (GeoJSON foreign members), read in place.
pub fn json_member<'a>(members: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    json::member(members, key, false)
}

/// A parsed `WHERE` expression.
#[derive(Debug)]
pub struct Expr {
    /// `None`: empty or malformed, matches nothing.
    root: Option<parse::Node>,
}

impl Expr {
    /// Parses the expression text; never fails (a malformed expression
    /// just matches nothing).
    pub fn parse(text: &[u8]) -> Expr {
        let start = text.iter().position(|&c| !lex::is_space(c));
        let end = text.iter().rposition(|&c| !lex::is_space(c));
        let root = match (start, end) {
            (Some(s), Some(e)) => parse::parse(&text[s..=e]).ok(),
            _ => None,
        };
        Expr { root }
    }

    /// Whether the object `id` passes the filter.
    pub fn matches(&self, id: &[u8], item: &Item) -> bool {
        self.root
            .as_ref()
            .is_some_and(|node| eval::matches(node, &eval::Cx { id, item }))
    }
}
