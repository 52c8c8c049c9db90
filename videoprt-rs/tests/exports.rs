//! The host's export table (what ntsim's PE loader binds a miniport's `videoprt_rs.sys`
//! imports to) is the export list of the shipped driver, `videoprt_rs.def`, name for name.

use videoprt::exports;

fn def_exports() -> Vec<String> {
    // Built in (not read at run time), so the test also runs under Miri's isolation.
    let def = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../videoprt_rs.def"));
    def.lines()
        .skip_while(|l| l.trim() != "EXPORTS")
        .skip(1)
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| !n.starts_with(';'))
        .filter(|n| !matches!(*n, "DllInitialize" | "DllUnload"))
        .map(str::to_string)
        .collect()
}

#[test]
fn the_host_export_table_is_the_def_list() {
    let mut table: Vec<String> = exports::NAMES.iter().map(|n| n.to_string()).collect();
    table.sort();
    assert_eq!(table, def_exports());
}

#[test]
fn every_export_resolves_to_a_distinct_address_and_nothing_else_resolves() {
    let mut addresses: Vec<usize> = exports::NAMES
        .iter()
        .map(|n| exports::lookup(n).unwrap_or_else(|| panic!("{n} does not resolve")))
        .collect();
    addresses.sort();
    addresses.dedup();
    assert_eq!(addresses.len(), exports::NAMES.len());
    assert_eq!(exports::lookup("VideoPortEnableInterrupt"), None);
    assert_eq!(exports::lookup("DllInitialize"), None);
}
