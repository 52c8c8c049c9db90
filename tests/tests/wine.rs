//! The shipped images under a third-party NT loader: Wine's ntoskrnl (`wine64`) loads
//! `videoprt_rs.sys` as the import of each miniport, runs DriverEntry and VideoPortInitialize,
//! and unloads them, through the service control manager as a user would on Windows.
//!
//! Wine has no PnP devices, so AddDevice and START never run here (those paths run on ntsim);
//! what this proves is that the images load on a kernel that is not ours, bind every import,
//! survive a kernel without driver-object extensions, and unload clean.
//!
//! Needs Wine (`cargo xtask test` installs it) and the images from `cargo xtask build`; a
//! missing one fails the test with the reason, never skips it.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use workspace_tests::wine::{self, Wine};

const MINIPORTS: [&str; 3] = [
    "sample_miniport",
    "c_edu_miniport_gnu",
    "c_edu_miniport_lld",
];

/// A Wine prefix of our own with its log: every command's output is appended to one file
/// (services.exe and winedevice.exe keep writing to the stderr of the command that started
/// them, so a pipe would never close while the session lives).
struct Session {
    wine: Wine,
    prefix: PathBuf,
    log: PathBuf,
}

impl Session {
    fn new(wine: Wine) -> Session {
        let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("wine");
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).expect("create the Wine scratch directory");
        Session {
            wine,
            prefix: root.join("prefix"),
            log: root.join("wine.log"),
        }
    }

    fn command(&self, program: &Path) -> Command {
        let log = File::options()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("open the Wine log");
        // A hung Wine must fail the test, not stall CI: `timeout` ends the command.
        let mut cmd = Command::new("timeout");
        cmd.arg("120")
            .arg(program)
            .env("WINEPREFIX", &self.prefix)
            .env("WINESERVER", &self.wine.server)
            .env("WINEDLLOVERRIDES", "mscoree,mshtml=")
            // DbgPrint output arrives on the debugstr channel; err and fixme stay on.
            .env("WINEDEBUG", "warn+debugstr")
            .env_remove("DISPLAY")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log);
        cmd
    }

    /// Runs the Wine loader with `args`: its exit status and what the log gained meanwhile.
    fn wine(&self, args: &[&str]) -> (bool, String) {
        self.mark(&format!("$ wine {}", args.join(" ")));
        let before = self.log().len();
        let ok = self
            .command(&self.wine.loader)
            .args(args)
            .status()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", self.wine.loader.display()))
            .success();
        let log = self.log();
        (ok, log.get(before..).unwrap_or("").to_string())
    }

    fn server(&self, arg: &str) {
        let _ = self.command(&self.wine.server).arg(arg).status();
    }

    /// A line of our own in the log, to cut it into steps.
    fn mark(&self, line: &str) {
        use std::io::Write as _;
        let mut log = File::options()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("open the Wine log");
        writeln!(log, "{line}").expect("write the Wine log");
    }

    fn log(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(&self.log).unwrap_or_default()).into_owned()
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.server("-k");
    }
}

#[test]
fn wine_loads_runs_and_unloads_each_miniport_with_videoprt_rs() {
    let wine = wine::find().unwrap_or_else(|why| panic!("{why}"));
    let drivers = workspace_tests::drivers_dir();
    for image in MINIPORTS.iter().chain(["videoprt_rs"].iter()) {
        let path = drivers.join(format!("{image}.sys"));
        assert!(
            path.is_file(),
            "{} is missing: run `cargo xtask build` (or `cargo xtask test`) first",
            path.display()
        );
    }

    let session = Session::new(wine);
    let (booted, boot) = session.wine(&["wineboot", "-i"]);
    assert!(booted, "wineboot failed:\n{boot}");
    session.server("-w");
    let system32 = session.prefix.join("drive_c/windows/system32/drivers");
    for image in MINIPORTS.iter().chain(["videoprt_rs"].iter()) {
        std::fs::copy(
            drivers.join(format!("{image}.sys")),
            system32.join(format!("{image}.sys")),
        )
        .unwrap_or_else(|e| panic!("copy {image}.sys into the prefix: {e}"));
    }

    for name in MINIPORTS {
        let binpath = format!("C:\\windows\\system32\\drivers\\{name}.sys");
        let steps: [Vec<&str>; 5] = [
            vec![
                "sc.exe", "create", name, "type=", "kernel", "start=", "demand", "error=",
                "normal", "binpath=", &binpath,
            ],
            vec!["net.exe", "start", name],
            vec!["sc.exe", "query", name],
            vec!["net.exe", "stop", name],
            vec!["sc.exe", "query", name],
        ];
        let [(created, create), (started, start), (_, running), (stopped, stop), (_, after)] =
            steps.map(|args| session.wine(&args));
        assert!(created, "{name}: sc create failed:\n{create}");
        assert!(
            started && start.contains("started successfully"),
            "{name}: net start failed:\n{start}"
        );
        assert!(
            start.contains(
                "videoprt_rs: VideoPortInitialize: miniport registered (port table: no \
                 driver-object extensions here"
            ),
            "{name}: VideoPortInitialize's DbgPrint line is missing:\n{start}"
        );
        assert!(
            running.contains("RUNNING"),
            "{name}: not RUNNING after net start:\n{running}"
        );
        assert!(
            stopped && stop.contains("stopped successfully"),
            "{name}: net stop failed:\n{stop}"
        );
        assert!(
            stop.contains("videoprt_rs: miniport driver unloaded"),
            "{name}: DriverUnload's DbgPrint line is missing:\n{stop}"
        );
        assert!(
            after.contains("STOPPED"),
            "{name}: not STOPPED after net stop:\n{after}"
        );
    }
    session.server("-k");
    let log = session.log();
    let kernel_errors: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("err:ntoskrnl") || l.contains("err:module"))
        .collect();
    assert!(
        kernel_errors.is_empty(),
        "Wine's kernel reported errors:\n{}",
        kernel_errors.join("\n")
    );
}
