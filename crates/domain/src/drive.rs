//! What one drive is, in time.

use std::time::Duration;

/// The longest pause between two recordings of one drive: a camera records continuously
/// from ignition to stop as consecutive files of about a minute, so a longer pause
/// (parked, ignition off) starts a new drive.
///
/// The agent groups the files it imports into drives by it and calls a drive finished
/// this long after its last file ends; the server groups uploaded files into drives by it
/// (its default; an operator may set another, see the server's upload settings). One
/// value on both sides keeps a drive on the phone one drive in the cloud.
pub const DRIVE_GAP: Duration = Duration::from_secs(2 * 60);
