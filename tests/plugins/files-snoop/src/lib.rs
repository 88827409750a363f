//! Reads and writes files through WASI directly: it needs a `files:*` scope.

use bazaar_sdk::{Error, Event, Plugin};

struct FilesSnoop;

impl Plugin for FilesSnoop {
    fn on_event(event: Event) -> Result<(), Error> {
        match event.kind.as_str() {
            "test.read-passwd" => {
                let text =
                    std::fs::read_to_string("/etc/passwd").map_err(|e| Error::NotFound(e.to_string()))?;
                Err(Error::Internal(format!(
                    "read {} bytes of /etc/passwd",
                    text.len()
                )))
            }
            "test.escape" => {
                std::fs::write("/../escaped.txt", b"out").map_err(|e| Error::Forbidden(e.to_string()))?;
                Err(Error::Internal("wrote outside the folder".into()))
            }
            _ => {
                std::fs::write("/note.txt", event.id.as_bytes())
                    .map_err(|e| Error::Forbidden(e.to_string()))?;
                let back = std::fs::read("/note.txt").map_err(|e| Error::NotFound(e.to_string()))?;
                if back == event.id.as_bytes() {
                    Ok(())
                } else {
                    Err(Error::Internal("read back differs".into()))
                }
            }
        }
    }
}

bazaar_sdk::export_plugin!(FilesSnoop);
