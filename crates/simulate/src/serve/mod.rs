//! The simulated camera over HTTP, as a dashcam serves its card on its Wi-Fi: the
//! listing and files of [`Api::Blackvue`] or [`Api::Novatek`] (see `catalog`), single
//! byte ranges (`Range: bytes=A-` or `A-B`, answered `206`), and — for the tests of a
//! downloader — the connection dropped once in the middle of a video.
//!
//! Every request answered is reported to a hook ([`Served`]: path, range, status, bytes
//! sent), so a test can tell what a client fetched and how often.

mod catalog;

pub use catalog::Api;

use bytes::Bytes;
use catalog::{resolve, Target};
use http_body_util::{combinators::UnsyncBoxBody, BodyExt, Full, StreamBody};
use hyper::body::Frame;
use hyper::header::{
    HeaderValue, ACCEPT_RANGES, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, RANGE,
};
use hyper::{Method, Request, Response, StatusCode};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

/// Bytes per body chunk.
const CHUNK: usize = 64 * 1024;
/// How long a body about to be dropped waits for its bytes to be written out.
const FLUSH: std::time::Duration = std::time::Duration::from_millis(100);

/// What the simulated camera serves, and how.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The camera folder (`simulate camera --out`): its `Record/` is served.
    pub dir: PathBuf,
    /// The protocol.
    pub api: Api,
    /// Drop the connection after this many bytes of the first video body longer than
    /// that (once per server), as a camera does when the car drives out of Wi-Fi range.
    pub drop_after: Option<u64>,
}

/// One request answered.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Served {
    /// `GET`, `HEAD`, …
    pub method: String,
    /// Path and query as asked.
    pub path: String,
    /// The `Range` header, if any.
    pub range: Option<String>,
    /// The status answered.
    pub status: u16,
    /// Body bytes sent.
    pub sent: u64,
    /// The connection was dropped on purpose before the body's end.
    pub dropped: bool,
}

/// Called once per request, when its body was sent (or abandoned).
pub type ServedHook = Arc<dyn Fn(&Served) + Send + Sync>;

type Body = UnsyncBoxBody<Bytes, std::io::Error>;

/// Serves the camera folder on `listener` until the task is dropped; each connection
/// on a task of its own. Must run inside a Tokio runtime.
pub async fn serve(
    listener: std::net::TcpListener,
    options: ServeOptions,
    hook: ServedHook,
) -> std::io::Result<()> {
    listener.set_nonblocking(true)?;
    let listener = tokio::net::TcpListener::from_std(listener)?;
    let shared = Arc::new(Shared {
        options,
        hook,
        dropped: AtomicBool::new(false),
    });
    loop {
        let (stream, _) = listener.accept().await?;
        let shared = shared.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let shared = shared.clone();
                async move { Ok::<_, std::convert::Infallible>(shared.answer(request).await) }
            });
            // A client going away, or a connection dropped on purpose, ends it: not an error.
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await;
        });
    }
}

/// What every connection shares.
struct Shared {
    options: ServeOptions,
    hook: ServedHook,
    /// The one drop of `drop_after` happened.
    dropped: AtomicBool,
}

impl Shared {
    async fn answer(&self, request: Request<hyper::body::Incoming>) -> Response<Body> {
        let mut served = Served {
            method: request.method().to_string(),
            path: request
                .uri()
                .path_and_query()
                .map_or("/".into(), |p| p.to_string()),
            range: request
                .headers()
                .get(RANGE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            status: 200,
            sent: 0,
            dropped: false,
        };
        if !matches!(*request.method(), Method::GET | Method::HEAD) {
            return self.small(served, StatusCode::METHOD_NOT_ALLOWED, "", "text/plain");
        }
        let head = request.method() == Method::HEAD;
        let target = resolve(
            &self.options.dir,
            self.options.api,
            request.uri().path(),
            request.uri().query(),
        );
        match target {
            Ok(Target::Listing(body, kind)) if head => {
                served.status = 200;
                (self.hook)(&served);
                with_length(Response::new(empty()), body.len() as u64, kind)
            }
            Ok(Target::Listing(body, kind)) => self.small(served, StatusCode::OK, &body, kind),
            Ok(Target::File(path)) => match self.file(&mut served, path, head).await {
                Ok(response) => response,
                Err(_) => self.small(served, StatusCode::NOT_FOUND, "", "text/plain"),
            },
            Ok(Target::NotFound) => self.small(served, StatusCode::NOT_FOUND, "", "text/plain"),
            Err(_) => self.small(served, StatusCode::INTERNAL_SERVER_ERROR, "", "text/plain"),
        }
    }

    /// A response with a body held in memory.
    fn small(
        &self,
        mut served: Served,
        status: StatusCode,
        body: &str,
        kind: &'static str,
    ) -> Response<Body> {
        served.status = status.as_u16();
        served.sent = body.len() as u64;
        (self.hook)(&served);
        let mut response = Response::new(
            Full::new(Bytes::from(body.to_owned()))
                .map_err(|never| match never {})
                .boxed_unsync(),
        );
        *response.status_mut() = status;
        with_length(response, body.len() as u64, kind)
    }

    /// A file, whole or the asked range, streamed.
    async fn file(
        &self,
        served: &mut Served,
        path: PathBuf,
        head: bool,
    ) -> std::io::Result<Response<Body>> {
        let mut file = tokio::fs::File::open(&path).await?;
        let size = file.metadata().await?.len();
        let (status, from, len) = match served.range.as_deref().map(|r| range(r, size)) {
            None => (StatusCode::OK, 0, size),
            Some(Some((from, to))) => (StatusCode::PARTIAL_CONTENT, from, to + 1 - from),
            Some(None) => {
                let mut response = self.small(
                    served.clone(),
                    StatusCode::RANGE_NOT_SATISFIABLE,
                    "",
                    "text/plain",
                );
                response
                    .headers_mut()
                    .insert(CONTENT_RANGE, header(&format!("bytes */{size}")));
                return Ok(response);
            }
        };
        served.status = status.as_u16();
        let video = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("mp4"));
        let cut = self
            .options
            .drop_after
            .filter(|limit| video && !head && len > *limit)
            .filter(|_| !self.dropped.swap(true, Ordering::SeqCst));
        let body = if head {
            (self.hook)(served);
            empty()
        } else {
            file.seek(std::io::SeekFrom::Start(from)).await?;
            stream(
                file,
                len,
                cut,
                Report {
                    hook: self.hook.clone(),
                    served: served.clone(),
                },
            )
        };
        let mut response = Response::new(body);
        *response.status_mut() = status;
        response
            .headers_mut()
            .insert(ACCEPT_RANGES, header("bytes"));
        if status == StatusCode::PARTIAL_CONTENT {
            response.headers_mut().insert(
                CONTENT_RANGE,
                header(&format!("bytes {from}-{}/{size}", from + len - 1)),
            );
        }
        let kind = if video {
            "video/mp4"
        } else {
            "application/octet-stream"
        };
        Ok(with_length(response, len, kind))
    }
}

fn header(value: &str) -> HeaderValue {
    HeaderValue::from_str(value).unwrap_or(HeaderValue::from_static(""))
}

fn empty() -> Body {
    Full::new(Bytes::new())
        .map_err(|never| match never {})
        .boxed_unsync()
}

fn with_length(mut response: Response<Body>, len: u64, kind: &'static str) -> Response<Body> {
    let headers = response.headers_mut();
    headers.insert(CONTENT_LENGTH, HeaderValue::from(len));
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(kind));
    response
}

/// The first and last byte of a single range `bytes=A-[B]` within `size`; `None` when
/// it can not be met (or is not of that form).
fn range(text: &str, size: u64) -> Option<(u64, u64)> {
    let (from, to) = text.trim().strip_prefix("bytes=")?.split_once('-')?;
    let from: u64 = from.trim().parse().ok()?;
    let to = match to.trim() {
        "" => size.checked_sub(1)?,
        last => last.parse::<u64>().ok()?.min(size.checked_sub(1)?),
    };
    (from <= to).then_some((from, to))
}

/// Reports a request to the hook when its body is done or abandoned.
struct Report {
    hook: ServedHook,
    served: Served,
}

impl Drop for Report {
    fn drop(&mut self) {
        (self.hook)(&self.served);
    }
}

/// `len` bytes of `file` from where it is, in chunks; with `cut`, an error after that
/// many bytes, which makes hyper drop the connection.
fn stream(file: tokio::fs::File, len: u64, cut: Option<u64>, report: Report) -> Body {
    let state = (file, len, cut, report);
    let chunks =
        futures_util::stream::unfold(state, |(mut file, left, cut, mut report)| async move {
            if cut.is_some_and(|c| report.served.sent >= c) {
                // Let the bytes sent reach the client before the connection goes (hyper
                // drops what it still buffers when a body fails).
                tokio::time::sleep(FLUSH).await;
                report.served.dropped = true;
                let error = std::io::Error::new(
                    std::io::ErrorKind::ConnectionAborted,
                    "dropped on purpose",
                );
                // After the error the stream ends (no state is returned for a next item).
                return Some((Err(error), (file, 0, None, report)));
            }
            if left == 0 {
                return None;
            }
            let room = cut.map_or(left, |c| c.saturating_sub(report.served.sent).min(left));
            let mut buf = vec![0u8; (room.min(CHUNK as u64)) as usize];
            match file.read_exact(&mut buf).await {
                Ok(_) => {
                    report.served.sent += buf.len() as u64;
                    let left = left - buf.len() as u64;
                    Some((Ok(Frame::data(Bytes::from(buf))), (file, left, cut, report)))
                }
                Err(e) => Some((Err(e), (file, 0, None, report))),
            }
        });
    StreamBody::new(chunks).boxed_unsync()
}

#[cfg(test)]
mod tests {
    use super::range;

    #[test]
    fn single_ranges_within_the_file() {
        assert_eq!(range("bytes=0-", 10), Some((0, 9)));
        assert_eq!(range("bytes=4-6", 10), Some((4, 6)));
        assert_eq!(range("bytes=4-60", 10), Some((4, 9)));
        assert_eq!(range("bytes=10-", 10), None);
        assert_eq!(range("bytes=-5", 10), None);
        assert_eq!(range("items=0-1", 10), None);
        assert_eq!(range("bytes=0-", 0), None);
    }
}
