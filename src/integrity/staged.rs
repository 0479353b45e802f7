//! Staged patterns for `sipas demo` (filled in below).
