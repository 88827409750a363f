//! The plugin contract as released: the WIT of every `bazaar:platform` version this host serves,
//! compiled into the binary. The runtime links them all ([`crate::runtime::bindings`]), the kit
//! vendors the newest, the portal documents each, and a released version never changes.

/// One released version of the contract.
pub struct Contract {
    /// `0.2.0`.
    pub version: &'static str,
    /// Its WIT files, by their path in the workspace (`wit/0.2.0/ui.wit`), and their text.
    pub files: &'static [(&'static str, &'static str)],
}

/// A WIT file of the workspace, compiled into the binary: its path and its text.
macro_rules! wit_file {
    ($path:literal) => {
        (
            $path,
            include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../", $path)),
        )
    };
}

/// Every version, oldest first (the same list as [`crate::policy::SUPPORTED_VERSIONS`]).
pub const CONTRACTS: [Contract; 2] = [
    Contract {
        version: "0.1.0",
        files: &[
            wit_file!("wit/0.1.0/capabilities.wit"),
            wit_file!("wit/0.1.0/plugin.wit"),
            wit_file!("wit/0.1.0/types.wit"),
        ],
    },
    Contract {
        version: "0.2.0",
        files: &[
            wit_file!("wit/0.2.0/capabilities.wit"),
            wit_file!("wit/0.2.0/plugin.wit"),
            wit_file!("wit/0.2.0/types.wit"),
            wit_file!("wit/0.2.0/ui.wit"),
        ],
    },
];

/// The newest version: what `bazaar plugin new` and the SDKs target.
pub fn newest() -> &'static Contract {
    &CONTRACTS[CONTRACTS.len() - 1]
}

impl Contract {
    /// `bazaar:platform@0.2.0`.
    pub fn package(&self) -> String {
        format!("bazaar:platform@{}", self.version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    /// A released version is frozen: its WIT may not change by a byte, or plugins built against
    /// it could stop linking. Add a new version beside it instead.
    #[test]
    fn released_versions_are_frozen() {
        let frozen = [
            (
                "0.1.0",
                "786475c559d105fb9a3282350eab3491733c7970a5c4521f7771e07accf6cac3",
            ),
            (
                "0.2.0",
                "4401e81d72b015296d9bfe4653d7e783f0e66f1cf6166c7fc8a8d0a7c41e3b64",
            ),
        ];
        for (version, expected) in frozen {
            let contract = CONTRACTS.iter().find(|c| c.version == version).unwrap();
            let mut hash = Sha256::new();
            for (path, text) in contract.files {
                hash.update(path.as_bytes());
                hash.update(text.as_bytes());
            }
            let got: String = hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
            assert_eq!(
                got, expected,
                "bazaar:platform@{version} changed: released WIT is frozen"
            );
        }
    }

    #[test]
    fn every_served_version_is_compiled_in_and_declares_itself() {
        let versions: Vec<&str> = CONTRACTS.iter().map(|c| c.version).collect();
        assert_eq!(versions, crate::policy::SUPPORTED_VERSIONS);
        for contract in &CONTRACTS {
            for (path, text) in contract.files {
                assert!(path.starts_with(&format!("wit/{}/", contract.version)), "{path}");
                assert!(
                    text.starts_with(&format!("package {};", contract.package())),
                    "{path}"
                );
            }
        }
    }
}
