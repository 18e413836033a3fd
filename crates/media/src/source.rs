//! Positional reads from any source: a file, a byte buffer or ranged reads of an object store.

use std::cell::RefCell;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};

/// A random-access byte source of known length.
///
/// Reading is positional so that the index can visit `moov` at the end of a file, then the
/// fragments, without holding more than one box in memory.
pub trait ReadAt {
    /// Total length of the source in bytes.
    fn size(&self) -> io::Result<u64>;

    /// Fills `buf` with the bytes at `offset`; fails with `UnexpectedEof` past the end.
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()>;
}

impl ReadAt for File {
    fn size(&self) -> io::Result<u64> {
        Ok(self.metadata()?.len())
    }

    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        std::os::unix::fs::FileExt::read_exact_at(self, buf, offset)
    }
}

impl ReadAt for [u8] {
    fn size(&self) -> io::Result<u64> {
        Ok(<[u8]>::len(self) as u64)
    }

    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        let start = usize::try_from(offset).map_err(|_| eof())?;
        let end = start.checked_add(buf.len()).ok_or_else(eof)?;
        let src = self.get(start..end).ok_or_else(eof)?;
        buf.copy_from_slice(src);
        Ok(())
    }
}

impl ReadAt for Vec<u8> {
    fn size(&self) -> io::Result<u64> {
        ReadAt::size(self.as_slice())
    }

    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        self.as_slice().read_exact_at(buf, offset)
    }
}

impl<T: ReadAt + ?Sized> ReadAt for &T {
    fn size(&self) -> io::Result<u64> {
        (**self).size()
    }

    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        (**self).read_exact_at(buf, offset)
    }
}

/// Adapts any `Read + Seek` (a cursor, a decompressor with seeking, a network reader) to
/// [`ReadAt`] by seeking before each read.
#[derive(Debug)]
pub struct SeekReader<R>(RefCell<R>);

impl<R: Read + Seek> SeekReader<R> {
    /// Wraps a reader.
    pub fn new(inner: R) -> Self {
        SeekReader(RefCell::new(inner))
    }
}

impl<R: Read + Seek> ReadAt for SeekReader<R> {
    fn size(&self) -> io::Result<u64> {
        self.0.borrow_mut().seek(SeekFrom::End(0))
    }

    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        let mut inner = self.0.borrow_mut();
        inner.seek(SeekFrom::Start(offset))?;
        inner.read_exact(buf)
    }
}

fn eof() -> io::Error {
    io::Error::new(io::ErrorKind::UnexpectedEof, "read past end of input")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_and_seek_readers_agree() {
        let data: Vec<u8> = (0..=255).collect();
        let seek = SeekReader::new(io::Cursor::new(data.clone()));
        assert_eq!(seek.size().unwrap(), 256);
        let (mut a, mut b) = ([0u8; 16], [0u8; 16]);
        data.read_exact_at(&mut a, 200).unwrap();
        seek.read_exact_at(&mut b, 200).unwrap();
        assert_eq!(a, b);
        assert_eq!(a[0], 200);
        let err = data.read_exact_at(&mut a, 250).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        assert!(seek.read_exact_at(&mut b, 250).is_err());
        assert!(data.read_exact_at(&mut a, u64::MAX).is_err());
    }
}
