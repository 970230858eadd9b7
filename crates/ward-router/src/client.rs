//! The HTTP client of remote backends: hyper over stamped TCP connections (rustls for https, with
//! the WebPKI roots), so that every response carries its connection's `SocketClock` and an
//! upstream's time can be measured at the socket. No proxy is used: a backend is reached at the
//! address its url names.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::Uri;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use ward_core::WardError;

use crate::stamped::{self, SocketClock, StampedStream};

pub(crate) type HttpClient = Client<HttpsConnector<StampedConnector>, Full<Bytes>>;

/// In a response's extensions: the clock of the connection that carried it.
#[derive(Debug, Clone)]
pub(crate) struct ConnectionClock(pub Arc<SocketClock>);

/// A client for http and https urls, HTTP/1.1 or HTTP/2 as the server offers (ALPN).
pub(crate) fn http_client(connect_timeout: Duration) -> Result<HttpClient, WardError> {
    let mut tcp = HttpConnector::new();
    tcp.enforce_http(false);
    tcp.set_connect_timeout(Some(connect_timeout));
    // A request's head and body may leave in two writes: Nagle would hold the second back.
    tcp.set_nodelay(true);
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|_| WardError::internal("cannot set up TLS for the HTTP client"))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_all_versions()
        .wrap_connector(StampedConnector(tcp));
    Ok(Client::builder(TokioExecutor::new()).build(connector))
}

/// Connects as `HttpConnector` does, then stamps the connection.
#[derive(Debug, Clone)]
pub(crate) struct StampedConnector(HttpConnector);

type Connecting =
    Pin<Box<dyn Future<Output = Result<TokioIo<StampedStream>, BoxError>> + Send + 'static>>;
type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl tower_service::Service<Uri> for StampedConnector {
    type Response = TokioIo<StampedStream>;
    type Error = BoxError;
    type Future = Connecting;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.0.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, uri: Uri) -> Connecting {
        let connecting = self.0.call(uri);
        Box::pin(async move {
            let stream = connecting.await?.into_inner();
            let stamped = stamped::ask_for_timestamps(&stream);
            Ok(TokioIo::new(StampedStream::new(stream, stamped)))
        })
    }
}

impl Connection for StampedStream {
    fn connected(&self) -> Connected {
        match self.clock() {
            Some(clock) => Connected::new().extra(ConnectionClock(clock.clone())),
            None => Connected::new(),
        }
    }
}
