//! Starting moto's server on a free loopback port, waiting until it
//! accepts connections (bounded), resetting it, and stopping it on drop.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Why moto could not be started.
#[derive(Debug, thiserror::Error)]
pub enum MotoError {
    /// No moto_server binary.
    #[error(
        "moto_server not found at {path}: run scripts/install-moto.sh from the workspace root (it creates .ci/venv), or set POSTURE_MOTO to a moto_server binary"
    )]
    NotInstalled {
        /// Where it was looked for.
        path: String,
    },
    /// Spawning or talking to it failed.
    #[error("moto_server at {path}: {message}")]
    Failed {
        /// The binary.
        path: String,
        /// What went wrong.
        message: String,
    },
}

/// A running moto server; killed when dropped.
#[derive(Debug)]
pub struct MotoServer {
    child: Child,
    addr: SocketAddr,
}

/// The moto_server binary: `$POSTURE_MOTO`, else `.ci/venv/bin/moto_server`
/// under the workspace root.
pub fn moto_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("POSTURE_MOTO") {
        return PathBuf::from(p);
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.join(".ci/venv/bin/moto_server")
}

impl MotoServer {
    /// Starts moto and waits (at most 60 s) until its port accepts connections.
    ///
    /// # Errors
    /// moto is not installed, or did not come up.
    pub async fn start() -> Result<MotoServer, MotoError> {
        MotoServer::start_at(&moto_binary()).await
    }

    /// Starts the moto_server binary at `bin`.
    ///
    /// # Errors
    /// No such binary, or it did not come up.
    pub async fn start_at(bin: &Path) -> Result<MotoServer, MotoError> {
        let path = bin.display().to_string();
        if !bin.is_file() {
            return Err(MotoError::NotInstalled { path });
        }
        let failed = |message: String| MotoError::Failed {
            path: path.clone(),
            message,
        };
        // Ask the OS for a free port, then hand it to moto. Another process
        // could take it in between; the readiness check below would then
        // fail loudly rather than talk to the wrong server for long.
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| failed(format!("no free loopback port: {e}")))?
            .port();
        let child = Command::new(bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| failed(format!("could not start: {e}")))?;
        let mut server = MotoServer {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
        };
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = server.child.try_wait() {
                return Err(failed(format!("exited during start-up ({status})")));
            }
            if tokio::net::TcpStream::connect(server.addr).await.is_ok() {
                break;
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(failed(format!(
                    "did not accept connections on {} within 60 s",
                    server.addr
                )));
            }
            // Polling interval, not synchronisation: the connect above decides.
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        server.reset().await.map_err(failed)?;
        Ok(server)
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The server's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Forgets everything moto holds (POST /moto-api/reset).
    ///
    /// # Errors
    /// The reset request failed.
    pub async fn reset(&self) -> Result<(), String> {
        let status = super::proxy::post_empty(self.addr, "/moto-api/reset").await?;
        if status == 200 {
            Ok(())
        } else {
            Err(format!("POST /moto-api/reset answered HTTP {status}"))
        }
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
