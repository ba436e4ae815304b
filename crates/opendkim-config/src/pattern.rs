//! The wildcard patterns of a `refile:` data set, matched as opendkim matches them.
//!
//! opendkim(8), DATA SETS: "Patterns are simple wildcard patterns, matching all text except that
//! the asterisk ("*") character is considered a wildcard". Underneath, opendkim turns each pattern
//! into a POSIX extended regular expression anchored at both ends, replacing `*` by `.*` and
//! escaping only `.` and `+` (`dkimf_mkregexp()` in util.c), and compiles it with `REG_ICASE` for
//! the SigningTable. Every other character is therefore literal, except the ones that mean
//! something to a regular expression; those are refused here rather than half-emulated.

use super::error::LineProblem;

/// Characters that `dkimf_mkregexp()` leaves unescaped and POSIX extended regular expressions
/// treat specially.
const REGEX_SPECIALS: &[char] = &['^', '$', '?', '(', ')', '[', ']', '{', '}', '|', '\\'];

/// Whether letters of different case match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Case {
    /// The SigningTable: opened with `DKIMF_DB_FLAG_ICASE`, so `REG_ICASE`. opendkim runs in the
    /// C locale, so only ASCII letters fold.
    Insensitive,
    /// The KeyTable: opened without it.
    Sensitive,
}

/// A compiled `refile:` pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pattern {
    /// The literal text between the `*`s; one piece means no wildcard.
    pieces: Vec<String>,
    case: Case,
}

impl Pattern {
    /// Compiles `text`, refusing characters a regular expression would read differently.
    pub fn new(text: &str, case: Case) -> Result<Self, LineProblem> {
        if let Some(character) = text.chars().find(|c| REGEX_SPECIALS.contains(c)) {
            return Err(LineProblem::UnsupportedPatternCharacter {
                pattern: text.to_owned(),
                character,
            });
        }
        Ok(Pattern {
            pieces: text.split('*').map(str::to_owned).collect(),
            case,
        })
    }

    fn same(&self, a: &[u8], b: &[u8]) -> bool {
        match self.case {
            Case::Insensitive => a.eq_ignore_ascii_case(b),
            Case::Sensitive => a == b,
        }
    }

    /// Finds `piece` in `haystack`, returning the offset just after its first occurrence.
    fn find_after(&self, haystack: &[u8], piece: &[u8]) -> Option<usize> {
        if piece.is_empty() {
            return Some(0);
        }
        haystack
            .windows(piece.len())
            .position(|window| self.same(window, piece))
            .map(|at| at + piece.len())
    }

    /// Whether the whole of `text` matches (the expression is anchored with `^` and `$`).
    ///
    /// The first piece must start the text and the last end it; the pieces between are found
    /// left to right, each as early as possible, which finds a match whenever one exists.
    pub fn matches(&self, text: &str) -> bool {
        let text = text.as_bytes();
        let (first, rest) = match self.pieces.split_first() {
            Some(split) => split,
            None => return text.is_empty(),
        };
        let first = first.as_bytes();
        let Some((last, middle)) = rest.split_last() else {
            return self.same(text, first);
        };
        let last = last.as_bytes();
        if text.len() < first.len() + last.len()
            || !self.same(&text[..first.len()], first)
            || !self.same(&text[text.len() - last.len()..], last)
        {
            return false;
        }
        let mut inner = &text[first.len()..text.len() - last.len()];
        for piece in middle {
            match self.find_after(inner, piece.as_bytes()) {
                Some(end) => inner = &inner[end..],
                None => return false,
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, text: &str) -> bool {
        Pattern::new(pattern, Case::Insensitive)
            .unwrap()
            .matches(text)
    }

    #[test]
    fn wildcards_match_any_run_of_characters() {
        assert!(matches("*@example.com", "bob@example.com"));
        assert!(matches("*@example.com", "@example.com"));
        assert!(!matches("*@example.com", "bob@sub.example.com"));
        assert!(matches("*.example.com", "bob@sub.example.com"));
        assert!(!matches("*.example.com", "bob@example.com"));
        assert!(matches("*", ""));
        assert!(matches("*", "anything@at.all"));
        assert!(matches("a*b*c", "abc"));
        assert!(matches("a*b*c", "a-b-b-c"));
        assert!(!matches("a*b*c", "acb"));
        assert!(matches("*@*.example.com", "x@a.b.example.com"));
        assert!(!matches("ab*ba", "aba"), "the pieces must not overlap");
    }

    #[test]
    fn dots_and_pluses_are_literal() {
        assert!(!matches("bob@exampleXcom", "bob@example.com"));
        assert!(!matches("bob@example.com", "bob@exampleXcom"));
        assert!(matches("bob+tag@example.com", "bob+tag@example.com"));
        assert!(!matches("bob+@example.com", "bobb@example.com"));
    }

    #[test]
    fn case_folds_only_ascii_and_only_when_asked() {
        assert!(matches("*@EXAMPLE.com", "Bob@example.COM"));
        assert!(!matches("jörg@example.com", "JÖRG@example.com"));
        assert!(matches("jörg@example.com", "JöRG@example.com"));
        let sensitive = Pattern::new("Key", Case::Sensitive).unwrap();
        assert!(sensitive.matches("Key"));
        assert!(!sensitive.matches("key"));
    }

    #[test]
    fn regular_expression_characters_are_refused() {
        for pattern in ["a?b", "(a)", "[ab]", "a|b", "^a", "a$", "a{2}", "a\\.b"] {
            assert!(
                matches!(
                    Pattern::new(pattern, Case::Insensitive),
                    Err(LineProblem::UnsupportedPatternCharacter { .. })
                ),
                "{pattern}"
            );
        }
    }
}
