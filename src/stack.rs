//! Stack for the parts of validation that recurse as deep as the input nests.
//!
//! Nesting is bounded where it is read (YAML at [`crate::template::yaml::MAX_DEPTH`] levels,
//! conditions at [`crate::condition::MAX_BRACKETS`] brackets), but a bound is only safe with
//! the stack to go with it, and that depends on the caller's thread (a test thread has 2 MiB,
//! an async worker may have less) and on the build. Measured at the bounds: a condition of
//! 199 brackets takes 4.6 MiB in a debug build and 1.4 MiB optimised (pest and the tree
//! builder, about 23 and 7 KiB a bracket), YAML 64 levels deep 2.6 MiB and 0.3 MiB.

/// What a template at the bounds needs, with a third to spare.
const NEEDED: usize = if cfg!(debug_assertions) { 6 << 20 } else { 2 << 20 };

/// The stack segment to run on when the current thread has less than [`NEEDED`] left.
const SEGMENT: usize = 2 * NEEDED;

/// Runs `f` with enough stack for input within the bounds: on the current stack when enough
/// is left, else on a fresh segment that is freed when `f` returns.
pub fn with_stack<T>(f: impl FnOnce() -> T) -> T {
    stacker::maybe_grow(NEEDED, SEGMENT, f)
}
