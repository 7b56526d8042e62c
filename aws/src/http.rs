//! The HTTPS client for every AWS client of posture's: rustls with ring,
//! root certificates loaded when the first request needs a connection.

use aws_smithy_http_client::tls;
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;

/// rustls with ring (no cmake, no C toolchain beyond cc), wrapped by
/// [`on_first_use`].
pub fn https_client() -> SharedHttpClient {
    on_first_use(
        aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(
                tls::rustls_provider::CryptoMode::Ring,
            ))
            .build_https(),
    )
}

/// An HTTP client that loads the native root certificates when the first
/// request needs a connection, not when the SDK client is built: every
/// command configures the providers and opens the backend, most never call
/// AWS, and loading the certificates costs more than the rest of a small
/// no-op plan's evaluation. (The SDK's own client loads them in
/// `validate_base_client_config`, which this wrapper does not forward.)
pub fn on_first_use(inner: SharedHttpClient) -> SharedHttpClient {
    SharedHttpClient::new(FirstUse(inner))
}

#[derive(Debug)]
struct FirstUse(SharedHttpClient);

impl HttpClient for FirstUse {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        // The inner client caches its connector: built (certificates
        // loaded) on the first call only.
        self.0.http_connector(settings, components)
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        self.0.connector_metadata()
    }
}
