//! The `Range` request header (RFC 9110 §14): one byte range of a representation.

use std::ops::Range;

/// What a request's `Range` header asks of a representation `len` bytes long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wanted {
    /// The whole representation (no header, another unit, or several ranges, which the
    /// RFC lets a server answer in full).
    Whole,
    /// One satisfiable byte range, clamped to the representation.
    Part(Range<u64>),
    /// A `bytes` range that is malformed or lies past the end: `416`.
    Unsatisfiable,
}

/// Interprets the value of a `Range` header for a representation of `len` bytes:
/// `bytes=a-b`, `bytes=a-` and `bytes=-n` (the last `n` bytes).
pub fn parse(header: Option<&str>, len: u64) -> Wanted {
    let Some(spec) = header.map(str::trim) else {
        return Wanted::Whole;
    };
    let Some((unit, ranges)) = spec.split_once('=') else {
        return Wanted::Unsatisfiable;
    };
    if !unit.trim().eq_ignore_ascii_case("bytes") {
        return Wanted::Whole;
    }
    if ranges.contains(',') {
        return Wanted::Whole;
    }
    let Some((first, last)) = ranges.trim().split_once('-') else {
        return Wanted::Unsatisfiable;
    };
    let number = |s: &str| {
        let s = s.trim();
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u64>().ok())
            .flatten()
    };
    let range = match (first.trim().is_empty(), last.trim().is_empty()) {
        // bytes=-n: the last n bytes.
        (true, false) => number(last)
            .filter(|&n| n > 0)
            .map(|n| len.saturating_sub(n)..len),
        // bytes=a-: from a to the end.
        (false, true) => number(first).map(|a| a..len),
        // bytes=a-b: inclusive bounds, b clamped to the end.
        (false, false) => match (number(first), number(last)) {
            (Some(a), Some(b)) if a <= b => Some(a..b.saturating_add(1).min(len)),
            _ => None,
        },
        (true, true) => None,
    };
    match range {
        Some(r) if r.start < len && r.start < r.end => Wanted::Part(r),
        _ => Wanted::Unsatisfiable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_of_a_single_range() {
        assert_eq!(parse(None, 100), Wanted::Whole);
        assert_eq!(parse(Some("bytes=0-9"), 100), Wanted::Part(0..10));
        assert_eq!(parse(Some("bytes=90-"), 100), Wanted::Part(90..100));
        assert_eq!(parse(Some("bytes=-10"), 100), Wanted::Part(90..100));
        assert_eq!(parse(Some("bytes=-1000"), 100), Wanted::Part(0..100));
        assert_eq!(parse(Some("bytes=50-1000"), 100), Wanted::Part(50..100));
        assert_eq!(parse(Some("bytes=99-99"), 100), Wanted::Part(99..100));
        assert_eq!(parse(Some("bytes=0-1,5-6"), 100), Wanted::Whole);
        assert_eq!(parse(Some("items=0-1"), 100), Wanted::Whole);
    }

    #[test]
    fn bad_or_past_the_end_ranges_are_unsatisfiable() {
        for bad in [
            "bytes=100-",
            "bytes=100-200",
            "bytes=5-4",
            "bytes=-0",
            "bytes=-",
            "bytes=a-b",
            "bytes=1",
            "bytes",
            "bytes=+1-2",
            "bytes=18446744073709551616-",
        ] {
            assert_eq!(parse(Some(bad), 100), Wanted::Unsatisfiable, "{bad}");
        }
        assert_eq!(parse(Some("bytes=0-"), 0), Wanted::Unsatisfiable);
    }
}
