//! Tries to open a socket: it imports `wasi:sockets`, which no scope grants.

use bazaar_sdk::{Error, Event, Plugin};

struct Sockets;

impl Plugin for Sockets {
    fn on_event(_event: Event) -> Result<(), Error> {
        std::net::TcpStream::connect("10.0.0.1:80").map_err(|e| Error::Internal(e.to_string()))?;
        Ok(())
    }
}

bazaar_sdk::export_plugin!(Sockets);
