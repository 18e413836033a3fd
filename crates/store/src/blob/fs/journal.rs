//! The part journal of a multipart upload on the filesystem engine: the `parts` file of
//! the upload's directory holds one fixed-size record per stored part, in the slot of its
//! index, written and fdatasynced once the part's bytes are durable.
//!
//! Records replace a marker file per part, which cost an fsync of the new file and one of
//! the directory per part; a record is one positional write and one fdatasync of a file
//! whose size rarely changes (it grows a block at a time), so no journal commit of the
//! filesystem is needed for it. The records in use are always slots `0..n`: storing part
//! `i` again first clears the slots from `i` on. Each record carries a check of its text,
//! so a torn or foreign slot reads as empty.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

use sha2::{Digest, Sha256};

use super::super::{BlobError, Result};

/// Name, inside an upload's directory, of the part journal.
pub(super) const PARTS_FILE: &str = "parts";

/// Length of one record (a divisor of every sector size, so a record never spans two).
const RECORD_LEN: usize = 64;

/// The journal grows by this much at a time, so that most records overwrite allocated
/// zeros and their fdatasync changes no metadata.
const GROWTH: u64 = 4096;

/// A part whose bytes are durable in an upload's `data` file, as its record says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct StoredPart {
    /// The part's index.
    pub index: u32,
    /// The tag its receipt carries (32 hex digits).
    pub etag: String,
    /// Its length in bytes (at most `MAX_PART_SIZE`).
    pub size: u64,
}

/// Create an upload's journal, one block of empty slots, durably (the caller fsyncs the
/// directory).
pub(super) fn create(dir: &Path) -> Result<()> {
    let path = dir.join(PARTS_FILE);
    std::fs::write(&path, vec![0; GROWTH as usize])
        .and_then(|()| File::open(&path)?.sync_all())
        .map_err(BlobError::fs("write", path))
}

/// Open an upload's journal for reading and writing.
pub(super) fn open(dir: &Path) -> Result<File> {
    let path = dir.join(PARTS_FILE);
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .map_err(BlobError::fs("open", path))
}

/// The parts recorded, in index order (slots `0..n` until the first empty one).
pub(super) fn read(journal: &File, dir: &Path) -> Result<Vec<StoredPart>> {
    let path = || dir.join(PARTS_FILE);
    let len = journal
        .metadata()
        .map_err(BlobError::fs("stat", path()))?
        .len();
    let mut bytes = vec![0; usize::try_from(len).unwrap_or(0)];
    journal
        .read_exact_at(&mut bytes, 0)
        .map_err(BlobError::fs("read", path()))?;
    Ok(bytes
        .chunks_exact(RECORD_LEN)
        .zip(0u32..)
        .map_while(|(slot, index)| decode(slot, index))
        .collect())
}

/// Record `part` in its slot (after the last recorded one) durably.
pub(super) fn append(journal: &File, dir: &Path, part: &StoredPart) -> Result<()> {
    let path = || dir.join(PARTS_FILE);
    let at = u64::from(part.index) * RECORD_LEN as u64;
    let len = journal
        .metadata()
        .map_err(BlobError::fs("stat", path()))?
        .len();
    let mut bytes = encode(part).to_vec();
    let end = at + RECORD_LEN as u64;
    if end > len {
        bytes.resize(
            usize::try_from(end.next_multiple_of(GROWTH) - at).unwrap_or(RECORD_LEN),
            0,
        );
    }
    journal
        .write_all_at(&bytes, at)
        .and_then(|()| journal.sync_data())
        .map_err(BlobError::fs("write", path()))
}

/// Empty the slots of parts `from..recorded` durably, before their bytes are overwritten.
pub(super) fn clear(journal: &File, dir: &Path, from: u32, recorded: u32) -> Result<()> {
    if from >= recorded {
        return Ok(());
    }
    let slots = usize::try_from(recorded - from).unwrap_or(0);
    let at = u64::from(from) * RECORD_LEN as u64;
    journal
        .write_all_at(&vec![0; slots * RECORD_LEN], at)
        .and_then(|()| journal.sync_data())
        .map_err(BlobError::fs("write", dir.join(PARTS_FILE)))
}

/// The text of a record without its check: `IIII ETAG SSSSSSSS`.
fn text(part: &StoredPart) -> String {
    format!("{:04} {} {:08}", part.index, part.etag, part.size)
}

/// Eight hex digits of the SHA-256 of a record's text.
fn check(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .take(4)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A record: text, check, spaces, newline (a readable file for whoever looks).
fn encode(part: &StoredPart) -> [u8; RECORD_LEN] {
    let text = text(part);
    let line = format!("{text} {}", check(&text));
    let mut record = [b' '; RECORD_LEN];
    let n = line.len().min(RECORD_LEN - 1);
    record[..n].copy_from_slice(&line.as_bytes()[..n]);
    record[RECORD_LEN - 1] = b'\n';
    record
}

/// The part a slot records, if it holds a whole record of part `index`.
fn decode(slot: &[u8], index: u32) -> Option<StoredPart> {
    let line = std::str::from_utf8(slot).ok()?.trim_end();
    let (text, sum) = line.rsplit_once(' ')?;
    if check(text) != sum {
        return None;
    }
    let mut fields = text.split(' ');
    let part = StoredPart {
        index: fields.next()?.parse().ok()?,
        etag: fields.next()?.to_owned(),
        size: fields.next()?.parse().ok()?,
    };
    (part.index == index && fields.next().is_none()).then_some(part)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(index: u32, size: u64) -> StoredPart {
        StoredPart {
            index,
            etag: format!("{index:032x}"),
            size,
        }
    }

    #[test]
    fn records_fit_their_slot_and_read_back() {
        for p in [part(0, 0), part(9_999, 64 * 1024 * 1024)] {
            let record = encode(&p);
            assert_eq!(decode(&record, p.index), Some(p.clone()));
            assert_eq!(decode(&record, p.index + 1), None, "another slot");
            let mut torn = record;
            torn[10] ^= 1;
            assert_eq!(decode(&torn, p.index), None, "a torn record");
        }
        assert_eq!(decode(&[0; RECORD_LEN], 0), None, "an empty slot");
    }

    #[test]
    fn parts_are_recorded_cleared_and_read_in_order() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        create(dir.path()).unwrap_or_else(|e| panic!("{e}"));
        let journal = open(dir.path()).unwrap_or_else(|e| panic!("{e}"));
        let read = || read(&journal, dir.path()).unwrap_or_else(|e| panic!("{e}"));
        assert!(read().is_empty());
        // Past the first block too.
        let parts: Vec<_> = (0..70).map(|i| part(i, 5 << 20)).collect();
        for p in &parts {
            append(&journal, dir.path(), p).unwrap_or_else(|e| panic!("{e}"));
        }
        assert_eq!(read(), parts);
        clear(&journal, dir.path(), 3, 70).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(read(), parts[..3]);
        let again = StoredPart {
            etag: "f".repeat(32),
            ..part(3, 7)
        };
        append(&journal, dir.path(), &again).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(read().last(), Some(&again));
        assert_eq!(read().len(), 4);
    }
}
