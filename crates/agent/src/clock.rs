//! Uploads on true UTC: a drive's times moved from the camera's clock by the offset its
//! GPS time gave ([`dashvault_media::telemetry::clock_offset`], which says why a quarter
//! hour). Times kept on the phone stay on the camera's clock; uploads carry true UTC and
//! say which clock it came from (`clock: gps`, else `camera`, which the server reads in
//! the device's time zone when one is set).

use crate::upload::{Clock, NewUpload};
use chrono::Duration;

/// `item`'s times (start, end, incidents) moved from the camera's clock to UTC by
/// `offset`, and its clock said: `gps`.
pub fn on_gps_clock(item: &mut NewUpload, offset: Duration) {
    item.start += offset;
    item.end += offset;
    for incident in &mut item.incidents {
        incident.at += offset;
    }
    item.clock = Clock::Gps;
}
