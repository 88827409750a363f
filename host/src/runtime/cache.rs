//! Components compiled once per content hash and kept on disk in the data folder.
//!
//! Loading native code is only as safe as the file it comes from, so each artifact is stored
//! with the SHA-256 of its bytes and the engine's compatibility hash in its name: a file that is
//! truncated, corrupt, or from another build of Bazaar is recompiled and replaced, never loaded.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Where compiled components are kept; `None` keeps nothing on disk.
#[derive(Debug, Clone)]
pub struct ComponentCache {
    dir: Option<PathBuf>,
}

impl ComponentCache {
    pub fn new(dir: Option<PathBuf>) -> Self {
        ComponentCache { dir }
    }

    fn paths(&self, engine: &Engine, sha256: &str) -> Option<(PathBuf, PathBuf)> {
        let dir = self.dir.as_ref()?;
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        let stem = format!("{sha256}-{:016x}", hasher.finish());
        Some((
            dir.join(format!("{stem}.cwasm")),
            dir.join(format!("{stem}.sha256")),
        ))
    }

    /// The compiled component for `bytes`, from disk when a trustworthy copy is there.
    pub fn load_or_compile(
        &self,
        engine: &Engine,
        bytes: &[u8],
        sha256: &str,
    ) -> wasmtime::Result<Component> {
        let Some((artifact, sum)) = self.paths(engine, sha256) else {
            return Component::new(engine, bytes);
        };
        if let Some(component) = load(engine, &artifact, &sum) {
            return Ok(component);
        }
        let component = Component::new(engine, bytes)?;
        if let Err(e) = store(&component, &artifact, &sum) {
            tracing::warn!(error = %e, path = %artifact.display(), "could not cache a compiled component");
        }
        Ok(component)
    }
}

fn load(engine: &Engine, artifact: &Path, sum: &Path) -> Option<Component> {
    let bytes = std::fs::read(artifact).ok()?;
    let expected = std::fs::read_to_string(sum).ok()?;
    if hex(&Sha256::digest(&bytes)) != expected.trim() {
        tracing::warn!(path = %artifact.display(), "cached component does not match its checksum; recompiling");
        return None;
    }
    // SAFETY: the bytes are exactly what `store` wrote after compiling with an engine of the same
    // compatibility hash (checked by the file name and by wasmtime's own header check), and
    // their SHA-256 matches the one written beside them, so they are our own compiler's output.
    #[allow(unsafe_code)]
    let component = unsafe { Component::deserialize(engine, &bytes) };
    match component {
        Ok(component) => Some(component),
        Err(e) => {
            tracing::warn!(error = %e, path = %artifact.display(), "cached component is unusable; recompiling");
            None
        }
    }
}

fn store(component: &Component, artifact: &Path, sum: &Path) -> std::io::Result<()> {
    let bytes = component
        .serialize()
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    if let Some(dir) = artifact.parent() {
        std::fs::create_dir_all(dir)?;
    }
    // Write both files under temporary names, then rename: a crash never leaves a half file
    // under the final name.
    let tmp_artifact = artifact.with_extension("cwasm.tmp");
    let tmp_sum = sum.with_extension("sha256.tmp");
    std::fs::write(&tmp_artifact, &bytes)?;
    std::fs::write(&tmp_sum, hex(&Sha256::digest(&bytes)))?;
    std::fs::rename(&tmp_sum, sum)?;
    std::fs::rename(&tmp_artifact, artifact)
}
