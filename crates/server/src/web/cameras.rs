//! `/cameras`: the signed-in user's cameras with what each holds in the cloud, and the
//! forms to add one (with its agent command, once, and as a QR code for a phone), rename
//! it, set its time zone, replace its token and remove it. Every change goes through the
//! devices API from the page's script; this module only renders.

use super::session::Viewer;
use super::templates;
use crate::state::AppState;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use dashvault_store::model::Device;
use serde::Serialize;

/// A camera model the add form offers, with the rules it is registered with.
#[derive(Debug, Serialize)]
struct KnownModel {
    /// The model's name, as registered.
    name: &'static str,
    /// Whether it records a cabin view too.
    cabin: bool,
    /// Whether its drives are uploaded (as time-lapses) besides its clips.
    drives: bool,
    /// Where the agent usually finds it: the camera's own Wi-Fi address, or a card folder.
    camera: &'static str,
}

/// The models the add form lists; "Other" lets the owner type any model and set its rules.
/// Wi-Fi addresses are the makers' defaults (BlackVue 10.99.77.1, Novatek 192.168.1.254).
const KNOWN_MODELS: &[KnownModel] = &[
    KnownModel {
        name: "BlackVue DR970X-2CH",
        cabin: false,
        drives: true,
        camera: "http://10.99.77.1",
    },
    KnownModel {
        name: "BlackVue DR750X-3CH Plus",
        cabin: true,
        drives: true,
        camera: "http://10.99.77.1",
    },
    KnownModel {
        name: "Viofo A129 Pro Duo",
        cabin: false,
        drives: true,
        camera: "http://192.168.1.254",
    },
    KnownModel {
        name: "Viofo A229 Pro 3CH",
        cabin: true,
        drives: true,
        camera: "http://192.168.1.254",
    },
    KnownModel {
        name: "Simulated camera",
        cabin: false,
        drives: true,
        camera: "./dashvault-camera",
    },
];

/// One camera as its row shows it.
#[derive(Debug, Serialize)]
struct CameraRow {
    device: Device,
    stored_bytes: u64,
    stored: String,
    last_upload_at: Option<String>,
}

/// `/cameras`.
pub async fn page(State(state): State<AppState>, viewer: Viewer) -> Response {
    let rows = match rows(&state, &viewer).await {
        Ok(rows) => rows,
        Err(err) => {
            tracing::error!(%err, "the cameras page failed");
            return templates::message(
                StatusCode::SERVICE_UNAVAILABLE,
                "Cameras are not available",
                "The database did not answer. Try again in a moment.",
            );
        }
    };
    templates::page(
        StatusCode::OK,
        "cameras.html",
        minijinja::context! {
            section => "cameras",
            phone => viewer.phone,
            cameras => rows,
            models => KNOWN_MODELS,
            zones => chrono_tz::TZ_VARIANTS.iter().map(|z| z.name()).collect::<Vec<_>>(),
        },
    )
}

async fn rows(state: &AppState, viewer: &Viewer) -> dashvault_store::Result<Vec<CameraRow>> {
    let mut rows = Vec::new();
    for device in state.repo.devices(viewer.user_id).await? {
        let usage = state.repo.device_usage(viewer.user_id, device.id).await?;
        rows.push(CameraRow {
            stored: bytes_in_words(usage.stored_bytes),
            stored_bytes: usage.stored_bytes,
            last_upload_at: usage.last_upload_at.map(|t| t.to_rfc3339()),
            device,
        });
    }
    Ok(rows)
}

/// `1234567` → `1.2 MB` (decimal units, as disks are sold).
fn bytes_in_words(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// `POST /cameras/qr`: the request's text (an agent command) as a QR code in SVG, for a
/// phone to scan from the screen. Only for a signed-in user; nothing is stored or logged.
pub async fn qr(_viewer: Viewer, text: String) -> Response {
    match qrcode::QrCode::new(text.as_bytes()) {
        Ok(code) => {
            let svg = code
                .render::<qrcode::render::svg::Color<'_>>()
                .min_dimensions(200, 200)
                .build();
            ([(CONTENT_TYPE, "image/svg+xml")], svg).into_response()
        }
        Err(err) => (
            StatusCode::BAD_REQUEST,
            format!("the text does not fit a QR code: {err}"),
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::{bytes_in_words, KNOWN_MODELS};

    #[test]
    fn the_add_form_carries_each_models_rules() {
        let html = super::templates::render_for_test(
            "cameras.html",
            minijinja::context! { models => KNOWN_MODELS, cameras => Vec::<()>::new(), zones => ["UTC"] },
        );
        assert!(
            html.contains(
                r#"<option value="Simulated camera" data-cabin="false" data-drives="true""#
            ),
            "{html}"
        );
    }

    #[test]
    fn sizes_read_as_words() {
        assert_eq!(bytes_in_words(0), "0 B");
        assert_eq!(bytes_in_words(999), "999 B");
        assert_eq!(bytes_in_words(1_234_567), "1.2 MB");
        assert_eq!(bytes_in_words(3_000_000_000), "3.0 GB");
    }
}
