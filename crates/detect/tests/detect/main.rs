//! Integration tests of the detector: real labelled drives, synthetic incidents built on
//! real driving, bad input, CSV and telemetry input.

mod bad_input;
mod classification;
mod incidents;
mod inputs;
mod orientation;
mod real;

use dashvault_detect::eval::LabelledTrip;
use std::path::PathBuf;

/// The folders of the shared driving-events data set, or a panic saying what is missing.
pub fn dataset_trips() -> Vec<PathBuf> {
    let root = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/driving-events/jair-jr__driverBehaviorDataset/data"
    ));
    let trips: Vec<PathBuf> = ["17", "20"].iter().map(|t| root.join(t)).collect();
    for trip in &trips {
        assert!(
            trip.join("groundTruth.csv").is_file(),
            "the real driving-events data set is missing: expected {} (see \
             /work/shared/data/driving-events/README.md; it is read from ../shared at test time)",
            trip.display()
        );
    }
    trips
}

/// Trip 20 (turns and calm manoeuvres), loaded.
pub fn calm_trip() -> LabelledTrip {
    let dirs = dataset_trips();
    LabelledTrip::load(&dirs[1]).expect("trip 20 loads")
}
