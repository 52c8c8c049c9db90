//! A reader for callgrind's output format (the subset `valgrind --tool=callgrind
//! --compress-strings=no --compress-pos=no` writes; compressed names are understood too) and
//! the one question the bench asks of it: how much of a workload's cost is the port's own.
//!
//! Callgrind records, per function, its self cost by source position and, per call arc
//! (caller → callee), the number of calls and the arc's inclusive cost. Nothing finer: the call
//! graph is aggregated by function, not a tree. The port's own cost is therefore computed by
//! inclusion and exclusion over arcs ([`Profile::port_cost`]):
//!
//! ```text
//!   own = Σ inclusive(non-port caller → port entry point)     the entry points as called
//!       − Σ inclusive(port function → kernel routine)         what the simulated kernel did
//!       + Σ inclusive(kernel-internal function → port function)  port callbacks the kernel ran
//!       − Σ inclusive(port function → miniport function)      the miniport's callbacks
//! ```
//!
//! Callbacks nest: a kernel routine the port calls may call the port back (the HAL's
//! `DRIVER_LIST_CONTROL`), which may call the miniport (`HwVidExecuteDma`) or the kernel again.
//! Each such cost is inside exactly one arc of each sign above, so the sum leaves the port's own
//! instructions, wherever the port ran. Recursive functions would be counted once per level
//! (callgrind's arcs of a recursion include each other); the port has none.
//!
//! Only the first event (`Ir`, instructions) is read.

use std::collections::BTreeMap;

/// One call arc: how often, and the instructions spent inside the callee for those calls.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct Arc {
    pub calls: u64,
    pub inclusive: u64,
}

/// One function: its own instructions and its outgoing arcs by callee name.
#[derive(Clone, Default, Debug)]
pub struct Function {
    pub self_cost: u64,
    pub arcs: BTreeMap<String, Arc>,
}

/// A parsed callgrind profile, functions by name (the same name in several objects or files
/// is one function here).
#[derive(Clone, Default, Debug)]
pub struct Profile {
    pub functions: BTreeMap<String, Function>,
}

/// Which functions belong to whom; see [`Profile::port_cost`].
pub struct Classes<'a> {
    /// The routines the simulated kernel exports or the port reaches through a table
    /// (kernel exports by name, ntsim hooks, the HAL's `DMA_OPERATIONS`).
    pub is_kernel_routine: &'a dyn Fn(&str) -> bool,
    /// Functions that are part of the simulated kernel (the routines and their internals).
    pub is_kernel_internal: &'a dyn Fn(&str) -> bool,
    /// The port's functions.
    pub is_port: &'a dyn Fn(&str) -> bool,
    /// The port's entry points measured (a subset of the port's functions).
    pub is_entry: &'a dyn Fn(&str) -> bool,
    /// The miniport's (the workload's) functions the port calls back.
    pub is_miniport: &'a dyn Fn(&str) -> bool,
}

/// What the port did in one profile.
#[derive(Clone, Default, Debug, PartialEq, Eq)]
pub struct PortCost {
    /// Inclusive instructions of the entry points, as called from outside the port.
    pub entries: u64,
    /// The port's own instructions (see the module documentation). Signed: arcs from port code
    /// outside the entry points (set-up, tear-down) into the kernel are subtracted too, so one
    /// profile's figure is only meaningful as a difference between two runs of a workload
    /// that differ only in how many operations they make.
    pub own: i64,
    /// Kernel routine calls made by the port, by routine.
    pub kernel_calls: BTreeMap<String, u64>,
    /// Calls to port functions (callee name → count), for locks implemented by the port.
    pub port_calls: BTreeMap<String, u64>,
}

impl PortCost {
    /// Calls the port made to routines whose name satisfies `matches`.
    #[cfg(test)]
    pub fn kernel_calls_matching(&self, matches: impl Fn(&str) -> bool) -> u64 {
        self.kernel_calls
            .iter()
            .filter(|(name, _)| matches(name))
            .map(|(_, n)| n)
            .sum()
    }
}

/// A function name without callgrind's recursion-depth suffix (`f'2`).
fn base_name(name: &str) -> &str {
    match name.rfind('\'') {
        Some(at) if name[at + 1..].bytes().all(|b| b.is_ascii_digit()) && at + 1 < name.len() => {
            &name[..at]
        }
        _ => name,
    }
}

impl Profile {
    /// Parses callgrind output. Errors name the line.
    pub fn parse(text: &str) -> Result<Profile, String> {
        let mut profile = Profile::default();
        // Compressed function names: "(id) name" defines, "(id)" refers (fn= and cfn= share
        // one name space; file and object names are not needed).
        let mut names: BTreeMap<String, String> = BTreeMap::new();
        let mut resolve = |value: &str| -> String {
            let value = value.trim();
            if let Some(rest) = value.strip_prefix('(') {
                if let Some(close) = rest.find(')') {
                    let id = rest[..close].to_string();
                    let name = rest[close + 1..].trim();
                    if name.is_empty() {
                        return names.get(&id).cloned().unwrap_or(id);
                    }
                    names.insert(id, name.to_string());
                    return name.to_string();
                }
            }
            value.to_string()
        };
        let mut current: Option<String> = None;
        let mut callee: Option<String> = None;
        // Set by "calls=": the next cost line is the arc's inclusive cost.
        let mut pending_calls: Option<u64> = None;
        for (number, line) in text.lines().enumerate() {
            let at = || format!("callgrind output line {}", number + 1);
            if let Some(name) = line.strip_prefix("fn=") {
                current = Some(base_name(&resolve(name)).to_string());
                pending_calls = None;
            } else if let Some(name) = line.strip_prefix("cfn=") {
                callee = Some(base_name(&resolve(name)).to_string());
            } else if let Some(rest) = line.strip_prefix("calls=") {
                let count = rest
                    .split_whitespace()
                    .next()
                    .and_then(|n| n.parse().ok())
                    .ok_or_else(|| format!("{}: bad calls= line", at()))?;
                pending_calls = Some(count);
            } else if line
                .bytes()
                .next()
                .is_some_and(|b| b.is_ascii_digit() || b == b'+' || b == b'-' || b == b'*')
            {
                // "<position> <Ir> [<more events>]".
                let cost: u64 = line
                    .split_whitespace()
                    .nth(1)
                    .map_or(Ok(0), |n| n.parse())
                    .map_err(|_| format!("{}: bad cost line", at()))?;
                let function = current
                    .as_ref()
                    .ok_or_else(|| format!("{}: cost before any fn=", at()))?;
                let entry = profile.functions.entry(function.clone()).or_default();
                match pending_calls.take() {
                    Some(calls) => {
                        let name = callee
                            .take()
                            .ok_or_else(|| format!("{}: calls= without cfn=", at()))?;
                        let arc = entry.arcs.entry(name).or_default();
                        arc.calls += calls;
                        arc.inclusive += cost;
                    }
                    None => entry.self_cost += cost,
                }
            }
        }
        Ok(profile)
    }

    /// Every arc, as (caller, callee, arc).
    fn arcs(&self) -> impl Iterator<Item = (&str, &str, &Arc)> {
        self.functions.iter().flat_map(|(caller, f)| {
            f.arcs
                .iter()
                .map(move |(callee, arc)| (caller.as_str(), callee.as_str(), arc))
        })
    }

    /// The port's cost in this profile (see the module documentation).
    pub fn port_cost(&self, classes: &Classes<'_>) -> PortCost {
        let mut cost = PortCost::default();
        let mut plus: u64 = 0;
        let mut minus: u64 = 0;
        for (caller, callee, arc) in self.arcs() {
            let caller_is_port = (classes.is_port)(caller);
            let caller_is_kernel =
                (classes.is_kernel_internal)(caller) || (classes.is_kernel_routine)(caller);
            if !caller_is_port && (classes.is_entry)(callee) {
                cost.entries += arc.inclusive;
            }
            if caller_is_port && (classes.is_kernel_routine)(callee) {
                minus += arc.inclusive;
                *cost.kernel_calls.entry(callee.to_string()).or_default() += arc.calls;
            }
            if caller_is_kernel && (classes.is_port)(callee) {
                plus += arc.inclusive;
            }
            if caller_is_port && (classes.is_miniport)(callee) {
                minus += arc.inclusive;
            }
            if (classes.is_port)(callee) {
                *cost.port_calls.entry(callee.to_string()).or_default() += arc.calls;
            }
        }
        cost.own = cost.entries as i64 + plus as i64 - minus as i64;
        cost
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A made-up run: main calls the entry point twice; the entry point takes a kernel spin
    /// lock once per call and asks the "HAL" for a list, which calls the port back, which calls
    /// the miniport and the kernel again.
    const SAMPLE: &str = "\
# callgrind format
version: 1
positions: line
events: Ir
summary: 2000

ob=/bin/workload
fl=src/main.rs
fn=workload::main
10 50
cfn=VideoPortStartDma
calls=2 20
11 1100

fl=src/start.rs
fn=VideoPortStartDma
20 100
21 40
cfn=KeAcquireSpinLockRaiseToDpc
calls=2 0
22 300
cfn=ntsim::hal::sg::get_scatter_gather_list
calls=2 0
23 620
cfn=__memcpy_avx_unaligned_erms
calls=2 0
24 40

fl=src/sg.rs
fn=ntsim::hal::sg::get_scatter_gather_list
30 200
cfn=std::sync::Mutex<T>::lock
calls=2 0
31 60
cfn=videoprt::dma::start::execute_trampoline
calls=2 0
32 360

fn=videoprt::dma::start::execute_trampoline
40 80
cfn=workload::keep_list
calls=2 0
41 30
cfn=NtsimGetCurrentIrql
calls=2 0
42 250

fn=KeAcquireSpinLockRaiseToDpc
0 300

fn=NtsimGetCurrentIrql
0 250
";

    fn classes_check(profile: &Profile) -> PortCost {
        let is_kernel_routine = |n: &str| {
            n.starts_with("Ke") || n.starts_with("Ntsim") || n.starts_with("ntsim::hal::")
        };
        let is_kernel_internal = |n: &str| n.contains("ntsim::");
        let is_port = |n: &str| n.starts_with("VideoPort") || n.contains("videoprt::");
        let is_entry = |n: &str| n == "VideoPortStartDma";
        let is_miniport = |n: &str| n.starts_with("workload::");
        profile.port_cost(&Classes {
            is_kernel_routine: &is_kernel_routine,
            is_kernel_internal: &is_kernel_internal,
            is_port: &is_port,
            is_entry: &is_entry,
            is_miniport: &is_miniport,
        })
    }

    #[test]
    fn parses_self_costs_and_arcs() {
        let profile = Profile::parse(SAMPLE).unwrap();
        let start = &profile.functions["VideoPortStartDma"];
        assert_eq!(start.self_cost, 140);
        assert_eq!(
            start.arcs["KeAcquireSpinLockRaiseToDpc"],
            Arc {
                calls: 2,
                inclusive: 300
            }
        );
        assert_eq!(profile.functions["workload::main"].self_cost, 50);
        assert_eq!(profile.functions["NtsimGetCurrentIrql"].self_cost, 250);
    }

    #[test]
    fn own_cost_removes_the_kernel_and_the_miniport_but_keeps_port_callbacks() {
        let cost = classes_check(&Profile::parse(SAMPLE).unwrap());
        assert_eq!(cost.entries, 1100);
        // Port code: StartDma's 140 + memcpy it called 40 + the trampoline's own 80.
        assert_eq!(cost.own, 140 + 40 + 80);
        assert_eq!(cost.kernel_calls["KeAcquireSpinLockRaiseToDpc"], 2);
        assert_eq!(
            cost.kernel_calls["ntsim::hal::sg::get_scatter_gather_list"],
            2
        );
        assert_eq!(cost.kernel_calls["NtsimGetCurrentIrql"], 2);
        // The HAL's own lock is not the port's.
        assert!(!cost.kernel_calls.contains_key("std::sync::Mutex<T>::lock"));
        assert_eq!(
            cost.kernel_calls_matching(|n| n.starts_with("KeAcquire")),
            2
        );
        assert_eq!(cost.port_calls["VideoPortStartDma"], 2);
    }

    #[test]
    fn compressed_names_and_recursion_suffixes_resolve() {
        let text = "\
events: Ir
fn=(1) VideoPortCompleteDma
5 10
cfn=(2) KeReleaseSpinLock'2
calls=3 0
6 90
fn=(2)
0 90
fn=(1)
7 5
";
        let profile = Profile::parse(text).unwrap();
        let complete = &profile.functions["VideoPortCompleteDma"];
        assert_eq!(complete.self_cost, 15);
        assert_eq!(complete.arcs["KeReleaseSpinLock"].calls, 3);
        assert_eq!(profile.functions["KeReleaseSpinLock"].self_cost, 90);
    }

    #[test]
    fn malformed_lines_are_named() {
        let err = Profile::parse("fn=f\ncalls=x 1\n").unwrap_err();
        assert!(err.contains("line 2"), "{err}");
        let err = Profile::parse("10 20\n").unwrap_err();
        assert!(err.contains("line 1"), "{err}");
    }
}
