//! BIND's configuration syntax, as far as TSIG key files need it: the `key` statements that
//! `tsig-keygen` writes and named.conf includes.
//!
//! A key file is often not only what tsig-keygen wrote: administrators add comments in all three
//! of BIND's styles, and keep keys in files that hold other statements too (named.conf.local with
//! its zones). So this reads BIND's tokens (words, quoted strings, braces, semicolons; `#`, `//`
//! and `/* */` comments), collects every `key` statement with the line of each part, and steps
//! over other statements whole. What a key's clauses mean is [`super::tsig_key`]'s business.

use super::tsig_key::TsigKeyParseError;

/// One token of the configuration, with the line it starts on (from 1).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Token {
    kind: TokenKind,
    line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum TokenKind {
    /// An unquoted word.
    Word(String),
    /// A quoted string, without its quotes, escapes resolved.
    Quoted(String),
    Open,
    Close,
    Semicolon,
}

impl TokenKind {
    /// The token as the error messages show it.
    fn describe(&self) -> String {
        match self {
            TokenKind::Word(word) => format!("`{word}`"),
            TokenKind::Quoted(_) => "a quoted string".to_owned(),
            TokenKind::Open => "`{`".to_owned(),
            TokenKind::Close => "`}`".to_owned(),
            TokenKind::Semicolon => "`;`".to_owned(),
        }
    }

    /// The text of a word or quoted string.
    fn text(&self) -> Option<&str> {
        match self {
            TokenKind::Word(text) | TokenKind::Quoted(text) => Some(text),
            _ => None,
        }
    }
}

/// A value in a key statement and the line it is on.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Located {
    /// The value as written (quotes removed).
    pub text: String,
    /// Its line, from 1.
    pub line: usize,
}

/// One `key NAME { ... };` statement as written, unchecked.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct KeyStatement {
    /// The key's name and the line of the `key` keyword.
    pub name: Located,
    /// The `algorithm` clause's value, if any.
    pub algorithm: Option<Located>,
    /// The `secret` clause's value, if any.
    pub secret: Option<Located>,
}

// Deliberately without the secret: these values end up in test failure output.
impl std::fmt::Debug for KeyStatement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyStatement")
            .field("name", &self.name.text)
            .field("algorithm", &self.algorithm.as_ref().map(|a| &a.text))
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// Every `key` statement of `text`, in order; other statements are stepped over.
pub(crate) fn key_statements(text: &str) -> Result<Vec<KeyStatement>, TsigKeyParseError> {
    let tokens = tokenize(text)?;
    let last_line = text.lines().count().max(1);
    let mut parser = Parser {
        tokens: tokens.into_iter().peekable(),
        last_line,
    };
    let mut keys = Vec::new();
    while let Some(token) = parser.tokens.next() {
        match &token.kind {
            TokenKind::Word(word) if word.eq_ignore_ascii_case("key") => {
                keys.push(parser.key_statement(token.line)?);
            }
            TokenKind::Word(_) => parser.skip_statement(&token)?,
            // An empty statement.
            TokenKind::Semicolon => {}
            other => {
                return Err(syntax(
                    token.line,
                    format!(
                        "expected a statement such as `key \"NAME\" {{ ... }};`, found {}",
                        other.describe()
                    ),
                ));
            }
        }
    }
    Ok(keys)
}

struct Parser {
    tokens: std::iter::Peekable<std::vec::IntoIter<Token>>,
    /// The line errors at the end of the text point to.
    last_line: usize,
}

impl Parser {
    /// The next token, or an error saying what was expected instead of the end of the text.
    fn next(&mut self, expected: &str) -> Result<Token, TsigKeyParseError> {
        self.tokens.next().ok_or_else(|| {
            syntax(
                self.last_line,
                format!("the text ends where {expected} was expected"),
            )
        })
    }

    /// The next token, which must be `kind`.
    fn expect(&mut self, kind: &TokenKind, expected: &str) -> Result<Token, TsigKeyParseError> {
        let token = self.next(expected)?;
        if token.kind == *kind {
            Ok(token)
        } else {
            Err(syntax(
                token.line,
                format!("expected {expected}, found {}", token.kind.describe()),
            ))
        }
    }

    /// The rest of a key statement after the `key` keyword on `line`.
    fn key_statement(&mut self, line: usize) -> Result<KeyStatement, TsigKeyParseError> {
        let token = self.next("the key's name after `key`")?;
        let Some(name) = token.kind.text().map(str::to_owned) else {
            return Err(syntax(
                token.line,
                format!(
                    "expected the key's name after `key`, found {}",
                    token.kind.describe()
                ),
            ));
        };
        let what = format!("key \"{name}\"");
        self.expect(&TokenKind::Open, &format!("`{{` after {what}"))?;
        let mut algorithm = None;
        let mut secret = None;
        loop {
            let token = self.next(&format!("`}}` closing {what}"))?;
            let clause = match &token.kind {
                TokenKind::Close => break,
                TokenKind::Word(word) => word.to_ascii_lowercase(),
                other => {
                    return Err(syntax(
                        token.line,
                        format!(
                            "expected `algorithm`, `secret` or `}}` in {what}, found {}",
                            other.describe()
                        ),
                    ));
                }
            };
            let slot = match clause.as_str() {
                "algorithm" => &mut algorithm,
                "secret" => &mut secret,
                _ => {
                    return Err(syntax(
                        token.line,
                        format!(
                            "{what} has an unknown clause {} (a key holds `algorithm` and \
                             `secret`)",
                            token.kind.describe()
                        ),
                    ));
                }
            };
            if slot.is_some() {
                return Err(syntax(
                    token.line,
                    format!("{what} has a second `{clause}` clause"),
                ));
            }
            let value = self.next(&format!("a value after `{clause}`"))?;
            let Some(text) = value.kind.text().map(str::to_owned) else {
                return Err(syntax(
                    value.line,
                    format!(
                        "expected a value after `{clause}`, found {}",
                        value.kind.describe()
                    ),
                ));
            };
            self.expect(
                &TokenKind::Semicolon,
                &format!("`;` after the `{clause}` clause"),
            )?;
            *slot = Some(Located {
                text,
                line: value.line,
            });
        }
        self.expect(
            &TokenKind::Semicolon,
            &format!("`;` after the `}}` that closes {what}"),
        )?;
        Ok(KeyStatement {
            name: Located { text: name, line },
            algorithm,
            secret,
        })
    }

    /// Steps over a statement that is not a key (`options { ... };`, `zone "x" { ... };`,
    /// `include "file";`): up to the `;` outside any braces.
    fn skip_statement(&mut self, first: &Token) -> Result<(), TsigKeyParseError> {
        let mut depth = 0usize;
        loop {
            let Some(token) = self.tokens.next() else {
                return Err(syntax(
                    first.line,
                    format!(
                        "the statement {} starting here does not end (a `;` or `}}` is missing)",
                        first.kind.describe()
                    ),
                ));
            };
            match token.kind {
                TokenKind::Open => depth += 1,
                TokenKind::Close if depth == 0 => {
                    return Err(syntax(token.line, "a `}` without its `{`".to_owned()));
                }
                TokenKind::Close => depth -= 1,
                TokenKind::Semicolon if depth == 0 => return Ok(()),
                _ => {}
            }
        }
    }
}

fn syntax(line: usize, detail: String) -> TsigKeyParseError {
    TsigKeyParseError::Syntax { line, detail }
}

/// Splits `text` into BIND's tokens, dropping white space and comments.
fn tokenize(text: &str) -> Result<Vec<Token>, TsigKeyParseError> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    let mut line = 1;
    while let Some(c) = chars.next() {
        let start = line;
        let kind = match c {
            '\n' => {
                line += 1;
                continue;
            }
            c if c.is_whitespace() => continue,
            '#' => {
                skip_line(&mut chars);
                continue;
            }
            '/' if chars.peek() == Some(&'/') => {
                skip_line(&mut chars);
                continue;
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                skip_block_comment(&mut chars, &mut line, start)?;
                continue;
            }
            '{' => TokenKind::Open,
            '}' => TokenKind::Close,
            ';' => TokenKind::Semicolon,
            '"' => TokenKind::Quoted(quoted(&mut chars, &mut line, start)?),
            c => {
                let mut word = String::from(c);
                while let Some(&next) = chars.peek() {
                    if next.is_whitespace() || matches!(next, '{' | '}' | ';' | '"' | '#') {
                        break;
                    }
                    word.push(next);
                    chars.next();
                }
                TokenKind::Word(word)
            }
        };
        tokens.push(Token { kind, line: start });
    }
    Ok(tokens)
}

type Chars<'a> = std::iter::Peekable<std::str::Chars<'a>>;

/// Skips to the end of the line (a `#` or `//` comment); the newline is left to count.
fn skip_line(chars: &mut Chars<'_>) {
    while let Some(&c) = chars.peek() {
        if c == '\n' {
            return;
        }
        chars.next();
    }
}

/// Skips a `/* */` comment whose `/*` was on line `start`.
fn skip_block_comment(
    chars: &mut Chars<'_>,
    line: &mut usize,
    start: usize,
) -> Result<(), TsigKeyParseError> {
    while let Some(c) = chars.next() {
        match c {
            '\n' => *line += 1,
            '*' if chars.peek() == Some(&'/') => {
                chars.next();
                return Ok(());
            }
            _ => {}
        }
    }
    Err(syntax(start, "a `/*` comment is not closed".to_owned()))
}

/// The rest of a quoted string opened on line `start`, with `\x` read as `x`.
fn quoted(
    chars: &mut Chars<'_>,
    line: &mut usize,
    start: usize,
) -> Result<String, TsigKeyParseError> {
    let mut text = String::new();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Ok(text),
            '\\' => match chars.next() {
                Some(escaped) => {
                    if escaped == '\n' {
                        *line += 1;
                    }
                    text.push(escaped);
                }
                None => break,
            },
            '\n' => {
                *line += 1;
                text.push(c);
            }
            c => text.push(c),
        }
    }
    Err(syntax(start, "a quoted string is not closed".to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(keys: &[KeyStatement]) -> Vec<(&str, usize)> {
        keys.iter()
            .map(|k| (k.name.text.as_str(), k.name.line))
            .collect()
    }

    #[test]
    fn reads_what_tsig_keygen_writes() {
        let keys = key_statements(
            "key \"harness-tsig\" {\n\talgorithm hmac-sha256;\n\tsecret \"c2VjcmV0\";\n};\n",
        )
        .unwrap();
        assert_eq!(names(&keys), [("harness-tsig", 1)]);
        let key = &keys[0];
        let algorithm = key.algorithm.as_ref().unwrap();
        assert_eq!(
            (algorithm.text.as_str(), algorithm.line),
            ("hmac-sha256", 2)
        );
        let secret = key.secret.as_ref().unwrap();
        assert_eq!((secret.text.as_str(), secret.line), ("c2VjcmV0", 3));
    }

    #[test]
    fn comments_whitespace_and_other_statements_are_stepped_over() {
        let text = "# made by tsig-keygen\n\
                    // for the rotation job\n\
                    /* a comment\n   over lines */ options { directory \"/var/cache/bind\"; };\n\
                    zone \"example.com\" { type primary; file \"db.example\"; };\n\
                    KEY dkim.example.com{algorithm HMAC-SHA512;secret\"YWJj\";};# done\n\
                    include \"/etc/bind/other.key\";\n";
        let keys = key_statements(text).unwrap();
        assert_eq!(names(&keys), [("dkim.example.com", 6)]);
        assert_eq!(keys[0].algorithm.as_ref().unwrap().text, "HMAC-SHA512");
        assert_eq!(keys[0].secret.as_ref().unwrap().text, "YWJj");
    }

    #[test]
    fn base64_slashes_in_a_quoted_secret_are_not_comments() {
        let keys = key_statements("key k { algorithm hmac-sha256; secret \"a//b/*c\"; };").unwrap();
        assert_eq!(keys[0].secret.as_ref().unwrap().text, "a//b/*c");
    }

    #[test]
    fn syntax_errors_name_the_line_and_the_fault() {
        let error = |text: &str| key_statements(text).unwrap_err().to_string();
        assert_eq!(
            error("key \"k\" {\n algorithm hmac-sha256\n secret \"x\";\n};"),
            "line 3: expected `;` after the `algorithm` clause, found `secret`"
        );
        assert_eq!(
            error("key \"k\" {\n algorithm hmac-sha256;\n}"),
            "line 3: the text ends where `;` after the `}` that closes key \"k\" was expected"
        );
        assert_eq!(
            error("key \"k\" { algorithm hmac-sha256; keyid 4; };"),
            "line 1: key \"k\" has an unknown clause `keyid` (a key holds `algorithm` and `secret`)"
        );
        assert_eq!(
            error("key \"k\" { secret \"a\";\n secret \"b\"; };"),
            "line 2: key \"k\" has a second `secret` clause"
        );
        assert_eq!(
            error("\n\nkey \"k\" { secret \"abc; };\n"),
            "line 3: a quoted string is not closed"
        );
        assert_eq!(
            error("/* key \"k\" {\n"),
            "line 1: a `/*` comment is not closed"
        );
        assert_eq!(
            error("key { algorithm hmac-sha256; };"),
            "line 1: expected the key's name after `key`, found `{`"
        );
        assert_eq!(
            error("{ };"),
            "line 1: expected a statement such as `key \"NAME\" { ... };`, found `{`"
        );
        assert_eq!(
            error("options {\n directory \"/x\";\n"),
            "line 1: the statement `options` starting here does not end (a `;` or `}` is missing)"
        );
    }

    #[test]
    fn debug_output_hides_the_secret() {
        let keys =
            key_statements("key k { algorithm hmac-sha256; secret \"c2VjcmV0\"; };").unwrap();
        let debug = format!("{keys:?}");
        assert!(!debug.contains("c2VjcmV0"), "{debug}");
        assert!(debug.contains("<redacted>"), "{debug}");
    }
}
