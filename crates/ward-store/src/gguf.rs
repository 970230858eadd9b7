//! A pure-Rust reader for the GGUF header: the few metadata keys the store records in a manifest.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use crate::error::StoreError;

const MAGIC: &[u8; 4] = b"GGUF";
/// Far above any real model (a few hundred keys), far below what would exhaust memory or time.
const MAX_KEY_COUNT: u64 = 1 << 20;
const MAX_KEY_LENGTH: u64 = 64 * 1024;
/// Strings we keep (the chat template is the largest, typically a few KiB).
const MAX_KEPT_STRING_LENGTH: u64 = 16 * 1024 * 1024;
/// Arrays of arrays are legal but unused in practice; the limit keeps recursion shallow.
const MAX_ARRAY_DEPTH: u32 = 4;

const TYPE_U8: u32 = 0;
const TYPE_I8: u32 = 1;
const TYPE_U16: u32 = 2;
const TYPE_I16: u32 = 3;
const TYPE_U32: u32 = 4;
const TYPE_I32: u32 = 5;
const TYPE_F32: u32 = 6;
const TYPE_BOOL: u32 = 7;
const TYPE_STRING: u32 = 8;
const TYPE_ARRAY: u32 = 9;
const TYPE_U64: u32 = 10;
const TYPE_I64: u32 = 11;
const TYPE_F64: u32 = 12;

/// What the store keeps from a GGUF header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GgufMetadata {
    pub version: u32,
    pub tensor_count: u64,
    /// `general.architecture`, e.g. `qwen2`.
    pub architecture: String,
    /// `general.name`.
    pub name: Option<String>,
    /// `general.size_label`, e.g. `1.5B`.
    pub size_label: Option<String>,
    /// `general.file_type`, the quantisation as llama.cpp numbers it.
    pub file_type: Option<u32>,
    /// `<architecture>.context_length`.
    pub context_length: u32,
    /// `tokenizer.chat_template`.
    pub chat_template: Option<String>,
}

impl GgufMetadata {
    /// The quantisation name for `general.file_type`, such as `Q4_K_M`.
    pub fn quantization(&self) -> Option<&'static str> {
        let name = match self.file_type? {
            0 => "F32",
            1 => "F16",
            2 => "Q4_0",
            3 => "Q4_1",
            7 => "Q8_0",
            8 => "Q5_0",
            9 => "Q5_1",
            10 => "Q2_K",
            11 => "Q3_K_S",
            12 => "Q3_K_M",
            13 => "Q3_K_L",
            14 => "Q4_K_S",
            15 => "Q4_K_M",
            16 => "Q5_K_S",
            17 => "Q5_K_M",
            18 => "Q6_K",
            _ => return None,
        };
        Some(name)
    }
}

/// Reads the metadata of the GGUF file at `path`, refusing anything that is not a well-formed GGUF
/// header with an architecture and a context length.
pub fn read_metadata(path: &Path) -> Result<GgufMetadata, StoreError> {
    let file = File::open(path).map_err(StoreError::io("could not open", path))?;
    let file_length = file
        .metadata()
        .map_err(StoreError::io("could not read", path))?
        .len();
    let mut header = HeaderReader {
        reader: BufReader::new(file),
        position: 0,
        file_length,
        path: path.to_path_buf(),
    };
    header.read_metadata()
}

/// A value we asked to keep; everything else is skipped without allocating.
enum KeptValue {
    Text(String),
    Integer(u64),
    Other,
}

struct HeaderReader {
    reader: BufReader<File>,
    position: u64,
    file_length: u64,
    path: PathBuf,
}

impl HeaderReader {
    fn read_metadata(&mut self) -> Result<GgufMetadata, StoreError> {
        let mut magic = [0u8; 4];
        if self.file_length < 4 || self.reader.read_exact(&mut magic).is_err() || &magic != MAGIC {
            return Err(StoreError::NotGguf {
                path: self.path.clone(),
            });
        }
        self.position = 4;
        let version = self.read_u32()?;
        if version != 2 && version != 3 {
            return Err(self.corrupt(format!(
                "unsupported GGUF version {version}; only versions 2 and 3 are read"
            )));
        }
        let tensor_count = self.read_u64()?;
        let key_count = self.read_u64()?;
        if key_count > MAX_KEY_COUNT {
            return Err(self.corrupt(format!("implausible metadata key count {key_count}")));
        }

        let mut architecture = None;
        let mut name = None;
        let mut size_label = None;
        let mut file_type = None;
        let mut chat_template = None;
        // The architecture key usually comes first, but the format does not promise it.
        let mut context_lengths: Vec<(String, u64)> = Vec::new();

        for _ in 0..key_count {
            let key = self.read_key()?;
            let value_type = self.read_u32()?;
            let keep = matches!(
                key.as_str(),
                "general.architecture"
                    | "general.name"
                    | "general.size_label"
                    | "general.file_type"
                    | "tokenizer.chat_template"
            ) || key.ends_with(".context_length");
            let value = if keep {
                self.read_kept_value(value_type)?
            } else {
                self.skip_value(value_type, 0)?;
                KeptValue::Other
            };
            match (key.as_str(), value) {
                ("general.architecture", KeptValue::Text(text)) => architecture = Some(text),
                ("general.name", KeptValue::Text(text)) => name = Some(text),
                ("general.size_label", KeptValue::Text(text)) => size_label = Some(text),
                ("general.file_type", KeptValue::Integer(number)) => {
                    file_type = u32::try_from(number).ok()
                }
                ("tokenizer.chat_template", KeptValue::Text(text)) => chat_template = Some(text),
                (_, KeptValue::Integer(number)) if key.ends_with(".context_length") => {
                    context_lengths.push((key, number))
                }
                _ => {}
            }
        }

        let architecture =
            architecture.ok_or_else(|| self.corrupt("missing general.architecture".into()))?;
        let context_key = format!("{architecture}.context_length");
        let context_length = context_lengths
            .iter()
            .find(|(key, _)| *key == context_key)
            .map(|(_, length)| u32::try_from(*length).unwrap_or(u32::MAX))
            .ok_or_else(|| self.corrupt(format!("missing {context_key}")))?;

        Ok(GgufMetadata {
            version,
            tensor_count,
            architecture,
            name,
            size_label,
            file_type,
            context_length,
            chat_template,
        })
    }

    fn corrupt(&self, reason: String) -> StoreError {
        StoreError::CorruptGguf {
            path: self.path.clone(),
            reason,
        }
    }

    fn read_bytes<const N: usize>(&mut self) -> Result<[u8; N], StoreError> {
        let mut bytes = [0u8; N];
        self.reader
            .read_exact(&mut bytes)
            .map_err(|error| self.read_error(error))?;
        self.position += N as u64;
        Ok(bytes)
    }

    fn read_error(&self, error: io::Error) -> StoreError {
        if error.kind() == io::ErrorKind::UnexpectedEof {
            self.corrupt(format!("truncated at byte {}", self.position))
        } else {
            StoreError::Io {
                action: "could not read",
                path: self.path.clone(),
                source: error,
            }
        }
    }

    fn read_u32(&mut self) -> Result<u32, StoreError> {
        self.read_bytes().map(u32::from_le_bytes)
    }

    fn read_u64(&mut self) -> Result<u64, StoreError> {
        self.read_bytes().map(u64::from_le_bytes)
    }

    /// Checks that `length` more bytes can exist before allocating or seeking for them.
    fn check_fits(&self, length: u64) -> Result<(), StoreError> {
        match self.position.checked_add(length) {
            Some(end) if end <= self.file_length => Ok(()),
            _ => Err(self.corrupt(format!(
                "length {length} at byte {} runs past the end of the file",
                self.position
            ))),
        }
    }

    fn read_string(&mut self, max_length: u64) -> Result<String, StoreError> {
        let length = self.read_u64()?;
        if length > max_length {
            return Err(self.corrupt(format!(
                "string of {length} bytes at byte {} is implausibly long",
                self.position
            )));
        }
        self.check_fits(length)?;
        let mut bytes = vec![0u8; length as usize];
        self.reader
            .read_exact(&mut bytes)
            .map_err(|error| self.read_error(error))?;
        self.position += length;
        String::from_utf8(bytes).map_err(|_| {
            self.corrupt(format!(
                "string ending at byte {} is not UTF-8",
                self.position
            ))
        })
    }

    fn read_key(&mut self) -> Result<String, StoreError> {
        self.read_string(MAX_KEY_LENGTH)
    }

    fn read_kept_value(&mut self, value_type: u32) -> Result<KeptValue, StoreError> {
        let value = match value_type {
            TYPE_STRING => KeptValue::Text(self.read_string(MAX_KEPT_STRING_LENGTH)?),
            TYPE_U8 => KeptValue::Integer(u64::from(self.read_bytes::<1>()?[0])),
            TYPE_U16 => KeptValue::Integer(u64::from(u16::from_le_bytes(self.read_bytes()?))),
            TYPE_U32 => KeptValue::Integer(u64::from(self.read_u32()?)),
            TYPE_U64 => KeptValue::Integer(self.read_u64()?),
            TYPE_I32 => {
                let number = i32::from_le_bytes(self.read_bytes()?);
                u64::try_from(number).map_or(KeptValue::Other, KeptValue::Integer)
            }
            TYPE_I64 => {
                let number = i64::from_le_bytes(self.read_bytes()?);
                u64::try_from(number).map_or(KeptValue::Other, KeptValue::Integer)
            }
            other => {
                self.skip_value(other, 0)?;
                KeptValue::Other
            }
        };
        Ok(value)
    }

    fn skip(&mut self, length: u64) -> Result<(), StoreError> {
        self.check_fits(length)?;
        let offset = i64::try_from(length).map_err(|_| self.corrupt("length overflow".into()))?;
        self.reader
            .seek_relative(offset)
            .map_err(|error| self.read_error(error))?;
        self.position += length;
        Ok(())
    }

    fn skip_value(&mut self, value_type: u32, depth: u32) -> Result<(), StoreError> {
        if let Some(size) = fixed_size(value_type) {
            return self.skip(size);
        }
        match value_type {
            TYPE_STRING => {
                let length = self.read_u64()?;
                self.skip(length)
            }
            TYPE_ARRAY => {
                if depth >= MAX_ARRAY_DEPTH {
                    return Err(self.corrupt("arrays nested too deeply".into()));
                }
                let element_type = self.read_u32()?;
                let count = self.read_u64()?;
                if let Some(size) = fixed_size(element_type) {
                    let total = count.checked_mul(size).ok_or_else(|| {
                        self.corrupt(format!("array of {count} elements overflows"))
                    })?;
                    return self.skip(total);
                }
                // Every variable-size element takes at least 8 bytes, so a count the file cannot
                // hold is rejected before looping over it.
                self.check_fits(count.saturating_mul(8))?;
                for _ in 0..count {
                    self.skip_value(element_type, depth + 1)?;
                }
                Ok(())
            }
            other => Err(self.corrupt(format!(
                "unknown value type {other} at byte {}",
                self.position
            ))),
        }
    }
}

fn fixed_size(value_type: u32) -> Option<u64> {
    match value_type {
        TYPE_U8 | TYPE_I8 | TYPE_BOOL => Some(1),
        TYPE_U16 | TYPE_I16 => Some(2),
        TYPE_U32 | TYPE_I32 | TYPE_F32 => Some(4),
        TYPE_U64 | TYPE_I64 | TYPE_F64 => Some(8),
        _ => None,
    }
}

/// Writes a minimal valid GGUF file (no tensors) for tests: the keys the store reads, a string
/// array and a float array like a tokenizer's, then `padding_bytes` bytes of filler.
#[doc(hidden)]
pub fn write_test_gguf(
    path: &Path,
    architecture: &str,
    context_length: u32,
    chat_template: Option<&str>,
    padding_bytes: usize,
) -> io::Result<()> {
    fn string(out: &mut impl Write, text: &str) -> io::Result<()> {
        out.write_all(&(text.len() as u64).to_le_bytes())?;
        out.write_all(text.as_bytes())
    }
    fn key(out: &mut impl Write, key: &str, value_type: u32) -> io::Result<()> {
        string(out, key)?;
        out.write_all(&value_type.to_le_bytes())
    }

    let tokens = ["<s>", "</s>", "hello", "world"];
    let key_count = 7 + u64::from(chat_template.is_some());
    let mut out = BufWriter::new(File::create(path)?);
    out.write_all(MAGIC)?;
    out.write_all(&3u32.to_le_bytes())?;
    out.write_all(&0u64.to_le_bytes())?;
    out.write_all(&key_count.to_le_bytes())?;

    key(&mut out, "general.architecture", TYPE_STRING)?;
    string(&mut out, architecture)?;
    key(&mut out, "general.name", TYPE_STRING)?;
    string(&mut out, "Test Model")?;
    key(&mut out, "general.size_label", TYPE_STRING)?;
    string(&mut out, "1K")?;
    key(&mut out, "general.file_type", TYPE_U32)?;
    out.write_all(&15u32.to_le_bytes())?;
    key(&mut out, "tokenizer.ggml.tokens", TYPE_ARRAY)?;
    out.write_all(&TYPE_STRING.to_le_bytes())?;
    out.write_all(&(tokens.len() as u64).to_le_bytes())?;
    for token in tokens {
        string(&mut out, token)?;
    }
    key(&mut out, "tokenizer.ggml.scores", TYPE_ARRAY)?;
    out.write_all(&TYPE_F32.to_le_bytes())?;
    out.write_all(&(tokens.len() as u64).to_le_bytes())?;
    for score in 0..tokens.len() {
        out.write_all(&(score as f32).to_le_bytes())?;
    }
    key(
        &mut out,
        &format!("{architecture}.context_length"),
        TYPE_U32,
    )?;
    out.write_all(&context_length.to_le_bytes())?;
    if let Some(template) = chat_template {
        key(&mut out, "tokenizer.chat_template", TYPE_STRING)?;
        string(&mut out, template)?;
    }
    let filler: Vec<u8> = (0..padding_bytes)
        .map(|index| (index % 251) as u8)
        .collect();
    out.write_all(&filler)?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test_file(
        chat_template: Option<&str>,
        padding_bytes: usize,
    ) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.gguf");
        write_test_gguf(&path, "llama", 4096, chat_template, padding_bytes).unwrap();
        (dir, path)
    }

    #[test]
    fn reads_the_keys_a_manifest_needs() {
        let (_dir, path) = test_file(Some("{{ messages }}"), 1000);
        let metadata = read_metadata(&path).unwrap();
        assert_eq!(
            metadata,
            GgufMetadata {
                version: 3,
                tensor_count: 0,
                architecture: "llama".into(),
                name: Some("Test Model".into()),
                size_label: Some("1K".into()),
                file_type: Some(15),
                context_length: 4096,
                chat_template: Some("{{ messages }}".into()),
            }
        );
        assert_eq!(metadata.quantization(), Some("Q4_K_M"));
    }

    #[test]
    fn a_missing_chat_template_is_none() {
        let (_dir, path) = test_file(None, 0);
        assert_eq!(read_metadata(&path).unwrap().chat_template, None);
    }

    #[test]
    fn quantization_names_follow_llama_cpp_numbering() {
        let (_dir, path) = test_file(None, 0);
        let mut metadata = read_metadata(&path).unwrap();
        for (file_type, expected) in [
            (0, Some("F32")),
            (3, Some("Q4_1")),
            (18, Some("Q6_K")),
            (4, None),
        ] {
            metadata.file_type = Some(file_type);
            assert_eq!(metadata.quantization(), expected, "file_type {file_type}");
        }
    }

    #[test]
    fn a_file_without_the_magic_is_not_gguf() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notes.txt");
        std::fs::write(&path, b"this is not a model").unwrap();
        assert!(matches!(
            read_metadata(&path),
            Err(StoreError::NotGguf { .. })
        ));
        std::fs::write(&path, b"GG").unwrap();
        assert!(matches!(
            read_metadata(&path),
            Err(StoreError::NotGguf { .. })
        ));
    }

    #[test]
    fn every_truncation_of_the_header_is_an_error() {
        let (dir, path) = test_file(Some("template"), 0);
        let bytes = std::fs::read(&path).unwrap();
        let truncated = dir.path().join("truncated.gguf");
        for length in 4..bytes.len() {
            std::fs::write(&truncated, &bytes[..length]).unwrap();
            let error = read_metadata(&truncated).unwrap_err();
            assert!(
                matches!(error, StoreError::CorruptGguf { .. }),
                "length {length}: {error}"
            );
        }
    }

    #[test]
    fn absurd_lengths_are_errors_not_allocations() {
        let (dir, path) = test_file(None, 0);
        let mut bytes = std::fs::read(&path).unwrap();
        // The first key's length sits right after magic, version, tensor count and key count.
        bytes[24..32].copy_from_slice(&u64::MAX.to_le_bytes());
        let corrupt = dir.path().join("corrupt.gguf");
        std::fs::write(&corrupt, &bytes).unwrap();
        let error = read_metadata(&corrupt).unwrap_err().to_string();
        assert!(error.contains("implausibly long"), "{error}");

        let mut bytes = std::fs::read(&path).unwrap();
        bytes[16..24].copy_from_slice(&u64::MAX.to_le_bytes());
        std::fs::write(&corrupt, &bytes).unwrap();
        let error = read_metadata(&corrupt).unwrap_err().to_string();
        assert!(error.contains("implausible metadata key count"), "{error}");
    }

    #[test]
    fn unsupported_versions_are_refused() {
        let (dir, path) = test_file(None, 0);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[4..8].copy_from_slice(&1u32.to_le_bytes());
        let old = dir.path().join("old.gguf");
        std::fs::write(&old, &bytes).unwrap();
        let error = read_metadata(&old).unwrap_err().to_string();
        assert!(error.contains("unsupported GGUF version 1"), "{error}");
    }
}
