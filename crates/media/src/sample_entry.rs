//! When two sample descriptions (`stsd` entries) of consecutive files are the same.
//!
//! Encoders write each file's measured bitrate into its sample description (the `btrt`
//! box, and the `esds` decoder configuration of AAC), so one camera's consecutive files
//! have descriptions that differ only there. Giving a cut one description per file makes
//! players reset their decoder at every file boundary: VLC re-creates the stream each
//! time, and with a few frames per file (a time-lapse) it stalls ("buffer deadlock
//! prevented"). Bitrates are informational, so descriptions equal but for them are one.

use crate::boxes::FourCc;
use crate::index::{AUDIO, VIDEO};

/// A sample entry with its bitrate fields zeroed, for comparing descriptions.
/// Entries whose layout is not understood are returned unchanged (compared exactly).
pub(crate) fn without_bitrates(entry: &[u8], handler: FourCc) -> Vec<u8> {
    let mut out = entry.to_vec();
    if let Some(children) = children_offset(entry, handler) {
        zero_bitrates(&mut out, children);
    }
    out
}

/// Where the child boxes of a sample entry start: after the 8-byte box header and the
/// fixed fields of a visual (78 bytes) or audio (28, or 44 and 64 for QuickTime sound
/// versions 1 and 2) entry.
fn children_offset(entry: &[u8], handler: FourCc) -> Option<usize> {
    if handler == VIDEO {
        return Some(86);
    }
    if handler == AUDIO {
        let version = u16::from_be_bytes(entry.get(16..18)?.try_into().ok()?);
        return match version {
            0 => Some(36),
            1 => Some(52),
            2 => Some(72),
            _ => None,
        };
    }
    None
}

/// Zeroes the payload of `btrt` and the bitrates of an `esds` among the boxes from `at`.
fn zero_bitrates(entry: &mut [u8], mut at: usize) {
    while let Some(header) = entry.get(at..at + 8) {
        let size = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
        let kind = [header[4], header[5], header[6], header[7]];
        let Some(end) = at
            .checked_add(size)
            .filter(|&e| size >= 8 && e <= entry.len())
        else {
            return;
        };
        match &kind {
            b"btrt" => entry[at + 8..end].fill(0),
            // Full box: version and flags, then the ES descriptor.
            b"esds" => zero_esds_bitrates(&mut entry[(at + 12).min(end)..end]),
            _ => {}
        }
        at = end;
    }
}

/// Zeroes `maxBitrate` and `avgBitrate` of the decoder configuration (tag 4) inside an
/// ES descriptor (tag 3), ISO/IEC 14496-1 §7.2.6.
fn zero_esds_bitrates(es: &mut [u8]) {
    let Some((3, body)) = descriptor(es, 0) else {
        return;
    };
    let Some(&flags) = es.get(body + 2) else {
        return;
    };
    // ES_ID (2), flags (1), then optional fields the flags announce.
    let mut at = body + 3;
    if flags & 0x80 != 0 {
        at += 2; // dependsOn_ES_ID
    }
    if flags & 0x40 != 0 {
        let Some(&len) = es.get(at) else { return };
        at += 1 + usize::from(len); // URL
    }
    if flags & 0x20 != 0 {
        at += 2; // OCR_ES_Id
    }
    let Some((4, config)) = descriptor(es, at) else {
        return;
    };
    // objectTypeIndication (1), streamType and bufferSizeDB (4), then the two bitrates.
    if let Some(rates) = es.get_mut(config + 5..config + 13) {
        rates.fill(0);
    }
}

/// The tag of the descriptor at `at` and where its body starts (after the tag and the
/// 1–4 byte expandable size).
fn descriptor(bytes: &[u8], at: usize) -> Option<(u8, usize)> {
    let tag = *bytes.get(at)?;
    let mut pos = at + 1;
    for _ in 0..4 {
        let b = *bytes.get(pos)?;
        pos += 1;
        if b & 0x80 == 0 {
            return Some((tag, pos));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An `mp4a` entry (version 0) with an `esds` and a `btrt`, with the given bitrate.
    fn mp4a(rate: u32) -> Vec<u8> {
        let r = rate.to_be_bytes();
        let mut esds = vec![0, 0, 0, 0]; // version, flags
        esds.extend([3, 25, 0, 1, 0]); // ES descriptor: id 1, no flags
        esds.extend([4, 17, 0x40, 0x15, 0, 0, 0]); // decoder config: AAC, audio
        esds.extend(r);
        esds.extend(r);
        esds.extend([5, 2, 0x11, 0x90]); // decoder specific info
        let mut entry = vec![0; 36];
        entry[4..8].copy_from_slice(b"mp4a");
        entry.extend(((esds.len() + 8) as u32).to_be_bytes());
        entry.extend(b"esds");
        entry.extend(esds);
        entry.extend(20u32.to_be_bytes());
        entry.extend(b"btrt");
        entry.extend([0, 0, 0, 0]);
        entry.extend(r);
        entry.extend(r);
        let len = entry.len() as u32;
        entry[0..4].copy_from_slice(&len.to_be_bytes());
        entry
    }

    #[test]
    fn entries_differing_only_in_bitrate_compare_equal() {
        let (a, b) = (mp4a(128_000), mp4a(131_500));
        assert_ne!(a, b);
        assert_eq!(without_bitrates(&a, AUDIO), without_bitrates(&b, AUDIO));
        // Other bytes still count: another sampling frequency is another description.
        let mut c = mp4a(128_000);
        let last = c.len() - 21;
        c[last] ^= 1;
        assert_ne!(without_bitrates(&a, AUDIO), without_bitrates(&c, AUDIO));
    }

    #[test]
    fn malformed_entries_are_compared_as_they_are() {
        for entry in [vec![], vec![0; 10], vec![0xff; 120]] {
            assert_eq!(without_bitrates(&entry, VIDEO), entry);
            assert_eq!(without_bitrates(&entry, AUDIO), entry);
        }
    }
}
