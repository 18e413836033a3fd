//! The targets on real labelled drives, over random mount rotations.

use dashvault_detect::eval::{evaluate, load_trips};
use dashvault_detect::Thresholds;

#[test]
fn real_trips_meet_targets() {
    let trips = load_trips(&crate::dataset_trips()).unwrap();
    let report = evaluate(&trips, &Thresholds::default(), 20, 1).unwrap();
    println!("{report}");
}
