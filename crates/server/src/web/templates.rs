//! The page templates (minijinja, HTML auto-escaping on), compiled once, and the filters
//! they format times and names with.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use chrono::{DateTime, Utc};
use minijinja::Environment;
use serde::Serialize;
use std::sync::OnceLock;

/// Every template: name, source.
const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../../web/templates/base.html")),
    (
        "macros.html",
        include_str!("../../web/templates/macros.html"),
    ),
    (
        "signin.html",
        include_str!("../../web/templates/signin.html"),
    ),
    ("list.html", include_str!("../../web/templates/list.html")),
    (
        "cameras.html",
        include_str!("../../web/templates/cameras.html"),
    ),
    (
        "player.html",
        include_str!("../../web/templates/player.html"),
    ),
    (
        "message.html",
        include_str!("../../web/templates/message.html"),
    ),
];

fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        for (name, source) in TEMPLATES {
            env.add_template(name, source)
                .unwrap_or_else(|err| panic!("template {name} does not compile: {err}"));
        }
        env.add_filter("when", when);
        env.add_filter("clock", clock);
        env.add_filter("label", label);
        env.add_function("length_of", length_of);
        env
    })
}

/// `template` rendered with `context` as an HTML answer with `status`.
pub fn page(status: StatusCode, template: &str, context: impl Serialize) -> Response {
    let rendered = environment()
        .get_template(template)
        .and_then(|t| t.render(context));
    match rendered {
        Ok(html) => (status, Html(html)).into_response(),
        Err(err) => {
            tracing::error!(%err, template, "a page failed to render");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the page failed to render",
            )
                .into_response()
        }
    }
}

/// `template` rendered with `context`, for tests of what a page holds.
#[cfg(test)]
pub fn render_for_test(template: &str, context: impl Serialize) -> String {
    environment()
        .get_template(template)
        .and_then(|t| t.render(context))
        .unwrap_or_else(|err| panic!("{template}: {err:#}"))
}

/// A page that only says something, e.g. `404` or `410`.
pub fn message(status: StatusCode, title: &str, text: &str) -> Response {
    page(status, "message.html", minijinja::context! { title, text })
}

fn parse(value: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(value)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// `2026-11-20T08:15:02Z` → `Fri 20 Nov 2026, 08:15` (UTC); other text unchanged.
fn when(value: String) -> String {
    parse(&value).map_or(value, |t| t.format("%a %-d %b %Y, %H:%M").to_string())
}

/// `2026-11-20T08:15:02Z` → `08:15:02` (UTC); other text unchanged.
fn clock(value: String) -> String {
    parse(&value).map_or(value, |t| t.format("%H:%M:%S").to_string())
}

/// `hard_brake` → `Hard brake`.
fn label(value: String) -> String {
    let spaced = value.replace('_', " ");
    let mut chars = spaced.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// The time from `start` to `end` (RFC 3339) as `m:ss` or `h:mm:ss`.
fn length_of(start: String, end: String) -> String {
    let (Some(start), Some(end)) = (parse(&start), parse(&end)) else {
        return String::new();
    };
    let seconds = (end - start).num_seconds().max(0);
    let (h, m, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_format_times_and_names() {
        assert_eq!(
            when("2026-11-20T08:15:02Z".into()),
            "Fri 20 Nov 2026, 08:15"
        );
        assert_eq!(clock("2026-11-20T08:15:02Z".into()), "08:15:02");
        assert_eq!(label("hard_brake".into()), "Hard brake");
        assert_eq!(
            length_of("2026-11-20T08:15:02Z".into(), "2026-11-20T08:17:05Z".into()),
            "2:03"
        );
    }

    #[test]
    fn the_pages_render_api_items() {
        let clip = serde_json::json!({
            "id": "c1", "kind": "auto", "view": "road", "start": "2026-11-20T08:15:02Z",
            "end": "2026-11-20T08:15:22Z", "cloud_saved": true,
            "incidents": [{"type": "hard_brake", "at": "2026-11-20T08:15:10Z", "severity": 0.5}],
            "thumbnail_url": "/t", "video_url": "/v", "download_url": "/d",
            "telemetry": {"route": [], "speed": [[0.0, "</script>"]], "g": []},
        });
        let drive = serde_json::json!({
            "id": "d1", "start": "2026-11-20T08:00:00Z", "end": "2026-11-20T08:30:00Z",
            "views": ["road"], "clips": [clip.clone()], "segments_url": "/s",
            "incidents": clip["incidents"],
        });
        for (section, item) in [("incidents", &clip), ("rides", &drive)] {
            let html = environment()
                .get_template("list.html")
                .unwrap()
                .render(minijinja::context! { section, path => "/x", items => [item], form => {} })
                .unwrap();
            assert!(html.contains("Hard brake"), "{html}");
        }
        for (mode, item) in [("clip", &clip), ("ride", &drive), ("shared", &clip)] {
            let html = environment()
                .get_template("player.html")
                .unwrap()
                .render(minijinja::context! {
                    mode, item, incidents => clip["incidents"], detail_url => "/api/v1/clips/c1",
                })
                .unwrap();
            assert!(html.contains(r#"data-at="2026-11-20T08:15:10Z""#), "{html}");
            assert!(
                !html.contains("</script>\""),
                "JSON in a script is escaped: {html}"
            );
        }
    }

    #[test]
    fn every_template_compiles_and_escapes() {
        let html = environment()
            .get_template("message.html")
            .unwrap()
            .render(minijinja::context! { title => "<b>", text => "x" })
            .unwrap();
        assert!(html.contains("&lt;b&gt;"));
    }
}
