//! Fuzzes the MP4 index on arbitrary bytes, then cuts and time-lapses whatever it accepts.

#![no_main]

use dashvault_media::{cut, timelapse, Mp4Index, Retime, TimelapseOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(index) = Mp4Index::read(data) else {
        return;
    };
    let files = [index];
    if let Ok(plan) = cut(&files, 0.5, 3.0) {
        let mut out = Vec::new();
        let _ = plan.write_range(&[data], 0..plan.len(), &mut out);
        assert_eq!(out.len() as u64, plan.len());
    }
    let options = TimelapseOptions {
        every: 1,
        retime: Retime::Speed(10.0),
    };
    let _ = timelapse(&files, options);
});
