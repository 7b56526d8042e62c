//! Notices: what a provider reports while it works (a call tried again
//! after a failure), so that a slow run shows why it is slow as it happens.
//!
//! Providers never print. The CLI hands each provider a [`Notices`] sink
//! ([`super::Provider::set_notices`]) and renders what arrives on stderr;
//! library users and tests that set none lose nothing but the notices.

use std::sync::Arc;
use std::time::Duration;

/// One thing a provider reports while it works.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// A call failed in a way that may pass, and is sent again after `wait`.
    Retry {
        /// The provider (`route53`).
        provider: String,
        /// What failed and why, one line naming the endpoint
        /// (`ListHostedZonesByName: connection refused to http://127.0.0.1:9`).
        cause: String,
        /// This retry's number, from 1.
        retry: u32,
        /// The most retries the call gets.
        of: u32,
        /// The wait before this retry.
        wait: Duration,
    },
}

impl std::fmt::Display for Notice {
    /// `route53: ListHostedZonesByName: connection refused to http://…; retry 3/8 in 4 s`
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Notice::Retry {
                provider,
                cause,
                retry,
                of,
                wait,
            } => {
                let secs = wait.as_secs_f64();
                let wait = if secs < 1.0 {
                    format!("{} ms", wait.as_millis())
                } else if secs >= 10.0 || secs.fract() < 0.05 {
                    format!("{secs:.0} s")
                } else {
                    format!("{secs:.1} s")
                };
                write!(f, "{provider}: {cause}; retry {retry}/{of} in {wait}")
            }
        }
    }
}

/// Where a provider sends its notices: a callback the CLI sets, or none.
/// Cheap to clone and callable from any task.
#[derive(Clone, Default)]
pub struct Notices(Option<Arc<dyn Fn(Notice) + Send + Sync>>);

impl Notices {
    /// A sink calling `f` for every notice.
    pub fn new(f: impl Fn(Notice) + Send + Sync + 'static) -> Notices {
        Notices(Some(Arc::new(f)))
    }

    /// Sends one notice (dropped when no sink is set).
    pub fn send(&self, n: Notice) {
        if let Some(f) = &self.0 {
            f(n);
        }
    }
}

impl std::fmt::Debug for Notices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Notices(set)"
        } else {
            "Notices(none)"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn a_retry_reads_as_one_line_and_reaches_the_sink() {
        let got = Arc::new(Mutex::new(Vec::new()));
        let g = got.clone();
        let sink = Notices::new(move |n| g.lock().expect("lock").push(n.to_string()));
        for (wait, shown) in [
            (4.0, "4 s"),
            (0.5, "500 ms"),
            (2.34, "2.3 s"),
            (12.34, "12 s"),
        ] {
            sink.send(Notice::Retry {
                provider: "route53".into(),
                cause: "ListHostedZonesByName: connection refused to http://127.0.0.1:9".into(),
                retry: 3,
                of: 8,
                wait: Duration::from_secs_f64(wait),
            });
            assert_eq!(
                got.lock().expect("lock").pop().as_deref(),
                Some(format!("route53: ListHostedZonesByName: connection refused to http://127.0.0.1:9; retry 3/8 in {shown}").as_str())
            );
        }
        // No sink: nothing happens.
        Notices::default().send(Notice::Retry {
            provider: "p".into(),
            cause: "c".into(),
            retry: 1,
            of: 1,
            wait: Duration::ZERO,
        });
    }
}
