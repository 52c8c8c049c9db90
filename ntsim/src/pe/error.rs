//! Why an image was refused: the file name, a coarse kind, and a sentence naming the problem.

use std::fmt;

/// Which part of the image a [`LoadError`] is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The file ends inside a structure it declares.
    Truncated,
    /// DOS header, NT headers or optional header.
    Header,
    /// The section table or the layout it describes.
    Section,
    /// The base relocation directory.
    Relocation,
    /// The import directory (or a delay-load one, which kernel images must not have).
    Import,
    /// The export directory.
    Export,
    /// Well formed, but for something this loader does not load (another machine, PE32, ...).
    Unsupported,
    /// The resolver did not provide an import.
    Unresolved,
    /// The host refused the memory: no address space, or the preferred base is taken.
    Map,
}

/// An image the loader refused. Displays as `"<file name>: <what is wrong>"`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadError {
    file: String,
    kind: ErrorKind,
    problem: String,
}

impl LoadError {
    /// The file name given to [`load`](super::load) or [`parse`](super::parse).
    pub fn file(&self) -> &str {
        &self.file
    }
    /// Which part of the image is at fault.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
    /// The problem alone, without the file name.
    pub fn problem(&self) -> &str {
        &self.problem
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.file, self.problem)
    }
}

impl std::error::Error for LoadError {}

/// A [`LoadError`] before the file name is attached: what the parsing functions return, so
/// they need not carry the name around.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Problem {
    pub(crate) kind: ErrorKind,
    pub(crate) message: String,
}

impl Problem {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Problem {
            kind,
            message: message.into(),
        }
    }

    pub(crate) fn in_file(self, file: &str) -> LoadError {
        LoadError {
            file: file.to_owned(),
            kind: self.kind,
            problem: self.message,
        }
    }
}

/// `Err(Problem)` in one expression: `return fail(ErrorKind::Header, format!(...))`.
pub(crate) fn fail<T>(kind: ErrorKind, message: impl Into<String>) -> Result<T, Problem> {
    Err(Problem::new(kind, message))
}
