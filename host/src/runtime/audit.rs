//! The audit: what a component can reach, read from its imports before it ever runs.
//!
//! Decoding uses wasmparser on the raw bytes (nothing is compiled or run), so malformed input
//! gets a clear error and a security reviewer sees exactly the import list the linker will see.

use serde::Serialize;

use crate::policy::{ImportRule, rule_for};

/// One import and what it means.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AuditedImport {
    pub name: String,
    /// The scope that grants it, if any (`files:read` stands for either files scope).
    pub scope: Option<String>,
    /// What it lets the plugin do, or why it is refused.
    pub meaning: String,
    /// True when no grant can allow it.
    pub refused: bool,
}

/// The audit of one component.
#[derive(Debug, Clone, Serialize)]
pub struct Audit {
    pub size_bytes: usize,
    pub sha256: String,
    pub imports: Vec<AuditedImport>,
    pub exports: Vec<String>,
    /// The `bazaar:platform` version the component is built against (`0.2.0`), read from its
    /// `handler` export.
    pub contract: Option<String>,
    /// Whether it exports the UI interface (`extension`) and so can show blocks in pages.
    pub ui: bool,
    /// The scopes the component needs, in the platform's order.
    pub required_scopes: Vec<String>,
    /// Reasons to reject the component; empty when it may be published.
    pub findings: Vec<String>,
}

impl Audit {
    pub fn passes(&self) -> bool {
        self.findings.is_empty()
    }
}

/// Why bytes could not be audited at all.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("this is a core WebAssembly module, not a component; build the plugin for wasm32-wasip2")]
    CoreModule,
    #[error("this is not a WebAssembly component: {0}")]
    Malformed(String),
}

/// The names of a component's top-level imports and exports.
pub fn interfaces(bytes: &[u8]) -> Result<(Vec<String>, Vec<String>), AuditError> {
    use wasmparser::{Encoding, Parser, Payload};
    let mut imports = Vec::new();
    let mut exports = Vec::new();
    let mut depth = 0usize;
    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload.map_err(|e| AuditError::Malformed(e.to_string()))?;
        match payload {
            Payload::Version {
                encoding: Encoding::Module,
                ..
            } if depth == 0 => return Err(AuditError::CoreModule),
            Payload::Version { .. } => depth += 1,
            Payload::End(_) => depth = depth.saturating_sub(1),
            Payload::ComponentImportSection(reader) if depth == 1 => {
                for import in reader {
                    let import = import.map_err(|e| AuditError::Malformed(e.to_string()))?;
                    imports.push(import.name.name.to_owned());
                }
            }
            Payload::ComponentExportSection(reader) if depth == 1 => {
                for export in reader {
                    let export = export.map_err(|e| AuditError::Malformed(e.to_string()))?;
                    exports.push(export.name.name.to_owned());
                }
            }
            _ => {}
        }
    }
    if depth != 0 && imports.is_empty() && exports.is_empty() {
        return Err(AuditError::Malformed("the component ends early".into()));
    }
    Ok((imports, exports))
}

/// Audits a component: every import mapped to its scope, and every reason to reject it.
pub fn audit(bytes: &[u8]) -> Result<Audit, AuditError> {
    use sha2::Digest;
    let (imports, exports) = interfaces(bytes)?;
    let mut findings = Vec::new();
    let mut required = crate::platform::ScopeSet::default();
    let audited = imports
        .iter()
        .map(|name| {
            let rule = rule_for(name);
            let (meaning, refused) = match &rule {
                ImportRule::Free { what } => ((*what).to_owned(), false),
                ImportRule::Scoped { what, .. } => ((*what).to_owned(), false),
                ImportRule::Files => (
                    "read (files:read) or change (files:write) files in its own folder".to_owned(),
                    false,
                ),
                ImportRule::Refused { reason } => (reason.clone(), true),
            };
            if refused {
                findings.push(format!("{name}: {meaning}"));
            }
            if let Some(scope) = rule.scope() {
                required = [scope].into_iter().chain(required.iter()).collect();
            }
            AuditedImport {
                name: name.clone(),
                scope: rule.scope().map(|s| s.to_string()),
                meaning,
                refused,
            }
        })
        .collect();
    let contract = exports
        .iter()
        .find_map(|e| e.strip_prefix("bazaar:platform/handler@"))
        .map(str::to_owned);
    match contract.as_deref() {
        None => findings
            .push("the component does not export bazaar:platform/handler; build it with bazaar-sdk".into()),
        Some(version) if !crate::policy::SUPPORTED_VERSIONS.contains(&version) => findings.push(format!(
            "the component is built against bazaar:platform@{version}; this host serves {}",
            crate::policy::SUPPORTED_VERSIONS.join(", ")
        )),
        Some(_) => {}
    }
    let ui = exports
        .iter()
        .any(|e| e.strip_prefix("bazaar:platform/extension@") == contract.as_deref());
    Ok(Audit {
        size_bytes: bytes.len(),
        sha256: sha2::Sha256::digest(bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
        imports: audited,
        exports,
        contract,
        ui,
        required_scopes: required.names(),
        findings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_and_core_modules_get_clear_errors() {
        assert!(matches!(audit(b"not wasm at all"), Err(AuditError::Malformed(_))));
        let core_module = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
        assert!(matches!(audit(&core_module), Err(AuditError::CoreModule)));
        let truncated_component = [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00, 0x07];
        assert!(audit(&truncated_component).is_err());
    }
}
