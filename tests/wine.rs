//! Finding Wine, the third-party NT loader the test suite loads our images with.
//!
//! Debian's `wine64` package installs its loader and server outside `PATH`
//! (`/usr/lib/wine/wine64`, `/usr/lib/wine/wineserver64`); other installations put `wine64`
//! or `wine` and `wineserver` on `PATH`. Both are accepted.

use std::path::{Path, PathBuf};

/// The Debian package that provides Wine for 64-bit images.
pub const DEBIAN_PACKAGE: &str = "wine64";

/// Debian's location of the loader and server.
const DEBIAN_DIR: &str = "/usr/lib/wine";

/// A Wine installation: its loader and its server.
#[derive(Clone, Debug)]
pub struct Wine {
    pub loader: PathBuf,
    pub server: PathBuf,
}

fn on_path(program: &str) -> Option<PathBuf> {
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}

/// The installed Wine, or why there is none.
pub fn find() -> Result<Wine, String> {
    let debian = Path::new(DEBIAN_DIR);
    let loader = [debian.join("wine64")]
        .into_iter()
        .find(|p| p.is_file())
        .or_else(|| on_path("wine64"))
        .or_else(|| on_path("wine"));
    let server = [debian.join("wineserver64")]
        .into_iter()
        .find(|p| p.is_file())
        .or_else(|| on_path("wineserver"));
    match (loader, server) {
        (Some(loader), Some(server)) => Ok(Wine { loader, server }),
        _ => Err(format!(
            "Wine is not installed (neither {DEBIAN_DIR}/wine64 nor wine64/wine and wineserver on \
             PATH); install it with: apt-get install --no-install-recommends {DEBIAN_PACKAGE}"
        )),
    }
}
