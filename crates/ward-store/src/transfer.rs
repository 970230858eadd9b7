//! Streaming a byte source into a file in 1 MiB blocks while hashing and reporting progress.

use std::io::{self, Read, Write};

const BLOCK_SIZE: usize = 1024 * 1024;

/// Which side of a copy failed, so callers can blame the network, the wheel or the disk.
pub(crate) enum CopyError {
    Read(io::Error),
    Write(io::Error),
}

/// Copies `reader` into `writer`, showing every block to `observe` (hashers, progress) once it is
/// written; returns the number of bytes copied.
pub(crate) fn copy_observed(
    reader: &mut impl Read,
    writer: &mut impl Write,
    mut observe: impl FnMut(&[u8]),
) -> Result<u64, CopyError> {
    let mut buffer = vec![0u8; BLOCK_SIZE];
    let mut copied = 0u64;
    loop {
        let count = match reader.read(&mut buffer) {
            Ok(0) => return Ok(copied),
            Ok(count) => count,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(CopyError::Read(error)),
        };
        writer
            .write_all(&buffer[..count])
            .map_err(CopyError::Write)?;
        observe(&buffer[..count]);
        copied += count as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_everything_and_observes_every_byte() {
        let data: Vec<u8> = (0..BLOCK_SIZE * 2 + 17).map(|i| (i % 256) as u8).collect();
        let mut written = Vec::new();
        let mut observed = Vec::new();
        let copied = copy_observed(&mut data.as_slice(), &mut written, |block| {
            observed.extend_from_slice(block)
        })
        .ok()
        .unwrap();
        assert_eq!(copied, data.len() as u64);
        assert_eq!(written, data);
        assert_eq!(observed, data);
    }
}
