//! Integration tests of the detector: real labelled drives, synthetic incidents built on
//! real driving, manoeuvre shapes, bad input, CSV and telemetry input.

mod bad_input;
mod classification;
mod incidents;
mod inputs;
mod leaning;
mod orientation;
mod real;
mod shape;

use dashvault_detect::eval::LabelledTrip;
use std::path::PathBuf;

/// The folders of the shared driving-events data set (trips 17 and 20), or `None` after
/// one loud line saying that the test did not run: the data may not be copied into the
/// repository, so it is read from `../shared`, which CI has.
pub fn dataset_trips() -> Option<Vec<PathBuf>> {
    let root = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/driving-events/jair-jr__driverBehaviorDataset/data"
    ));
    let trips: Vec<PathBuf> = ["17", "20"].iter().map(|t| root.join(t)).collect();
    if trips.iter().all(|t| t.join("groundTruth.csv").is_file()) {
        return Some(trips);
    }
    eprintln!(
        "!!!!! NOT RUN: this test needs the real driving-events data at {} (see \
         ../shared/data/driving-events/README.md); it is read from ../shared, never copied",
        root.display()
    );
    None
}

/// Trip 20 (turns and calm manoeuvres), loaded; `None` when the data is absent.
pub fn calm_trip() -> Option<LabelledTrip> {
    let dirs = dataset_trips()?;
    Some(LabelledTrip::load(&dirs[1]).expect("trip 20 loads"))
}
