//! Scenario derivation and checking (see below).
pub struct ScanOptions;
pub struct ScanReport;
#[derive(Clone, Copy, Debug)]
pub enum Trigger { FirstLoad }
pub fn check_analysis() {}
