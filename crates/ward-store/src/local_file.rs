//! The `file:` source: copies a GGUF file from this machine into the store, hashing on the way.

use std::fs::File;
use std::path::Path;

use sha2::{Digest, Sha256};
use tempfile::NamedTempFile;

use crate::error::StoreError;
use crate::gguf;
use crate::pull::{hex_digest, Download, Fetched, PullProgress};
use crate::transfer::{copy_observed, CopyError};

pub(crate) fn fetch(
    source: &Path,
    partial_dir: &Path,
    progress: &dyn PullProgress,
) -> Result<Fetched, StoreError> {
    progress.stage(&format!("checking {}", source.display()));
    // Refuse a non-GGUF file before copying it, with an error naming the user's path.
    gguf::read_metadata(source)?;

    let mut input = File::open(source).map_err(StoreError::io("could not open", source))?;
    let total_bytes = input
        .metadata()
        .map_err(StoreError::io("could not read", source))?
        .len();
    let mut copy = NamedTempFile::new_in(partial_dir)
        .map_err(StoreError::io("could not create a file in", partial_dir))?;

    let label = source.file_name().map_or_else(
        || source.display().to_string(),
        |name| name.to_string_lossy().into_owned(),
    );
    progress.start(&label, Some(total_bytes));
    let mut hasher = Sha256::new();
    copy_observed(&mut input, copy.as_file_mut(), |block| {
        hasher.update(block);
        progress.advance(block.len() as u64);
    })
    .map_err(|error| match error {
        CopyError::Read(source_error) => StoreError::io("could not read", source)(source_error),
        CopyError::Write(write_error) => {
            StoreError::io("could not write", copy.path())(write_error)
        }
    })?;
    copy.as_file()
        .sync_all()
        .map_err(StoreError::io("could not write", copy.path()))?;
    progress.finish();

    Ok(Fetched::Downloaded(Download {
        file: copy.into_temp_path(),
        sha256: hex_digest(hasher),
        expected_sha256: None,
    }))
}
