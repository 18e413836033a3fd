//! The filter form of MY RIDES and MY INCIDENTS: its field names are the list API's query
//! names, so the form's query string is read exactly as the API reads its own.

use serde::{Deserialize, Serialize};

/// The filter form; an empty field is no filter. Names are the list API's query names.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct ListForm {
    /// First day (`YYYY-MM-DD`) or instant.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub from: String,
    /// Last day or instant.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub to: String,
    /// Earliest time of day, `HH:MM` (in `tz`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub time_from: String,
    /// Latest time of day, `HH:MM` (in `tz`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub time_to: String,
    /// The viewer's time zone (set by the page's script), which days and times of day
    /// are in; UTC when empty. Not a filter of its own.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub tz: String,
    /// Incident type.
    #[serde(rename = "type", skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// `road` or `cabin`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub view: String,
    /// Device id.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub device: String,
    /// Where the page starts (from the previous page's `next_cursor`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub cursor: String,
    /// Items per page (the API's default when empty).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub limit: String,
}

impl ListForm {
    /// Whether any filter is set (the cursor is no filter).
    pub fn filtered(&self) -> bool {
        [
            &self.from,
            &self.to,
            &self.time_from,
            &self.time_to,
            &self.kind,
            &self.view,
            &self.device,
        ]
        .iter()
        .any(|v| !v.is_empty())
    }

    /// The link to the page after this one.
    pub fn next_page(&self, path: &str, cursor: Option<String>) -> Option<String> {
        let next = Self {
            cursor: cursor?,
            ..self.clone()
        };
        serde_urlencoded::to_string(&next)
            .ok()
            .map(|query| format!("{path}?{query}"))
    }
}

#[cfg(test)]
mod tests {
    use super::ListForm;

    #[test]
    fn the_next_page_keeps_the_filters() {
        let form: ListForm =
            serde_urlencoded::from_str("from=2026-11-20&to=&type=hard_brake&view=").unwrap();
        assert!(form.filtered());
        assert_eq!(
            form.next_page("/incidents", Some("abc".into())).as_deref(),
            Some("/incidents?from=2026-11-20&type=hard_brake&cursor=abc")
        );
        assert_eq!(form.next_page("/incidents", None), None);
        assert!(!ListForm::default().filtered());
    }
}
