//! Security headers of every page: a Content Security Policy that runs only this server's
//! scripts (and lets map tiles in from the configured tile server), no framing, no MIME
//! sniffing, no referrer (share links carry their token in the path).

use axum::extract::State;
use axum::http::header::{
    CONTENT_SECURITY_POLICY, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::HeaderValue;
use axum::response::Response;

/// The policy of this server's pages.
#[derive(Debug, Clone)]
pub struct Policy {
    csp: HeaderValue,
}

impl Policy {
    /// The policy for a tile URL template (empty: no map tiles).
    pub fn new(map_tiles_url: &str) -> Self {
        let tiles = tile_origin(map_tiles_url)
            .map(|origin| format!(" {origin}"))
            .unwrap_or_default();
        let csp = format!(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:{tiles}; \
             media-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; \
             form-action 'self'; frame-ancestors 'none'"
        );
        Self {
            csp: HeaderValue::from_str(&csp).unwrap_or(HeaderValue::from_static(
                "default-src 'self'; script-src 'self'; frame-ancestors 'none'",
            )),
        }
    }
}

/// `scheme://host[:port]` of a tile URL template, when it has one of plain characters.
fn tile_origin(template: &str) -> Option<String> {
    let (scheme, rest) = template.split_once("://")?;
    let host = rest.split('/').next()?;
    let plain = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-.:[]{}".contains(c))
    };
    (matches!(scheme, "http" | "https") && plain(host)).then(|| {
        // A subdomain placeholder such as `{s}.tile.example.org` allows every subdomain.
        let host = match host.split_once('.') {
            Some((first, domain)) if first.starts_with('{') => format!("*.{domain}"),
            _ => host.to_owned(),
        };
        format!("{scheme}://{host}")
    })
}

/// Add the headers to a page's response.
pub async fn secure(State(policy): State<Policy>, mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(CONTENT_SECURITY_POLICY, policy.csp.clone());
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}

#[cfg(test)]
mod tests {
    use super::tile_origin;

    #[test]
    fn tile_origins() {
        assert_eq!(
            tile_origin("https://tile.example.org/{z}/{x}/{y}.png").as_deref(),
            Some("https://tile.example.org")
        );
        assert_eq!(
            tile_origin("https://{s}.tile.example.org/{z}/{x}/{y}.png").as_deref(),
            Some("https://*.tile.example.org")
        );
        assert_eq!(tile_origin(""), None);
        assert_eq!(tile_origin("javascript:alert(1)"), None);
        assert_eq!(tile_origin("https://a b/"), None);
    }
}
