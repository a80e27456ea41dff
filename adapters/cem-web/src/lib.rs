//! The web pages of CEM: kiosk, counter console, display board, customer pages (branch
//! finder, booking, joining remotely, ticket tracker, survey), manager dashboard and
//! administration.
//!
//! The pages are plain HTML shells and small JavaScript modules embedded in the binary (read
//! from the source folder in debug builds, so a page can be changed without rebuilding). They
//! need no front-end build: every page is the same shell, which loads `/assets/app.js` and its
//! own module from `/assets/pages/`. The modules talk to the REST API and the live streams of
//! `cem-http` only; this crate serves files and the languages, nothing else.
//!
//! # Languages
//! Each language is one catalogue file, `assets/i18n/<code>.json`: adding a file adds the
//! language to every page ([`languages`] lists what is embedded). Its `_meta` section names
//! the language, its direction, the locale and calendar used for numbers and dates (Persian:
//! Persian digits and the Jalali calendar), and its speech voice.
//!
//! # Routes
//! [`router`] serves the pages at the paths the server's messages link to (`/track/…`,
//! `/booking/…`, `/survey/…`, `/join/…`), the assets under `/assets/`, the web app's
//! manifest and service worker at the root, and `/qr.svg?data=…`, the QR code of a link to
//! one of the server's own pages (a printed ticket's tracker link).

use axum::Router;
use axum::extract::Query;
use axum::extract::rejection::QueryRejection;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rust_embed::RustEmbed;
use serde::{Deserialize, Serialize};

#[derive(RustEmbed)]
#[folder = "assets/"]
struct Assets;

/// The pages: a path and the module that draws it (`assets/pages/<module>.js`).
pub const PAGES: &[(&str, &str)] = &[
    ("/", "index"),
    ("/kiosk", "kiosk"),
    ("/console", "console"),
    ("/display", "display"),
    ("/dashboard", "dashboard"),
    ("/admin", "admin"),
    ("/find/{organization}", "find"),
    ("/join/{branch}", "join"),
    ("/track/{branch}/{ticket}", "track"),
    ("/booking/{branch}", "booking"),
    ("/booking/{branch}/{code}", "booking"),
    ("/survey/{token}", "survey"),
    ("/survey/{branch}/{survey}", "survey"),
];

/// The longest link `/qr.svg` encodes.
const QR_MAX_LEN: usize = 512;

/// What the pages are told of the server they run on.
#[derive(Debug, Clone, Default)]
pub struct WebSettings {
    /// The organization whose branch finder the home page links to (the reference server's
    /// first one); none: the home page lists staff and device pages only.
    pub home_organization: Option<String>,
}

/// Every page, asset and language of the web pages.
pub fn router(settings: WebSettings) -> Router {
    // Only an id's characters reach the page.
    let organization: String = settings
        .home_organization
        .unwrap_or_default()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    let mut router = Router::new();
    for &(path, module) in PAGES {
        let organization = organization.clone();
        router = router.route(
            path,
            get(move || {
                let organization = organization.clone();
                async move { page(module, &organization) }
            }),
        );
    }
    router
        .route("/assets/{*file}", get(asset))
        .route(
            "/manifest.webmanifest",
            get(|headers: HeaderMap| async move { file("manifest.webmanifest", &headers) }),
        )
        .route(
            "/sw.js",
            get(|headers: HeaderMap| async move { file("sw.js", &headers) }),
        )
        .route("/assets/languages.json", get(languages_json))
        .route("/qr.svg", get(qr))
}

/// A page: the shell with the page's module named in it.
fn page(module: &str, organization: &str) -> Response {
    let Some(shell) = Assets::get("shell.html") else {
        return not_found();
    };
    let html = String::from_utf8_lossy(&shell.data)
        .replace("{{page}}", module)
        .replace("{{organization}}", organization);
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        html,
    )
        .into_response()
}

async fn asset(
    axum::extract::Path(path): axum::extract::Path<String>,
    headers: HeaderMap,
) -> Response {
    file(&path, &headers)
}

/// An embedded file, with its type and an ETag; `304` when the client has it already.
/// Every response says `no-cache`: clients revalidate, so a changed page is never stale, and
/// the service worker keeps copies for when the server is away.
fn file(path: &str, headers: &HeaderMap) -> Response {
    if path.split('/').any(|part| part == ".." || part.is_empty()) {
        return not_found();
    }
    let Some(found) = Assets::get(path) else {
        return not_found();
    };
    let etag = format!(
        "\"{}\"",
        found
            .metadata
            .sha256_hash()
            .iter()
            .take(12)
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    let cached = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let mut response = if cached {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        found.data.into_owned().into_response()
    };
    let h = response.headers_mut();
    if let Ok(mime) = HeaderValue::from_str(found.metadata.mimetype()) {
        h.insert(header::CONTENT_TYPE, mime);
    }
    if let Ok(tag) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, tag);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "not found").into_response()
}

/// A language the pages speak, from its catalogue's `_meta`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LanguageInfo {
    /// Code, the catalogue's file name (`fa`).
    pub code: String,
    /// The language's own name (`فارسی`).
    pub name: String,
    /// `ltr` or `rtl`.
    pub dir: String,
}

#[derive(Deserialize)]
struct Catalogue {
    #[serde(rename = "_meta")]
    meta: Meta,
}

#[derive(Deserialize)]
struct Meta {
    name: String,
    dir: String,
}

/// The languages embedded, sorted by code: one per catalogue file `i18n/<code>.json`.
pub fn languages() -> Vec<LanguageInfo> {
    let mut found: Vec<LanguageInfo> = Assets::iter()
        .filter_map(|path| {
            let code = path
                .strip_prefix("i18n/")?
                .strip_suffix(".json")?
                .to_owned();
            let data = Assets::get(&path)?;
            let catalogue: Catalogue = serde_json::from_slice(&data.data).ok()?;
            Some(LanguageInfo {
                code,
                name: catalogue.meta.name,
                dir: catalogue.meta.dir,
            })
        })
        .collect();
    found.sort_by(|a, b| a.code.cmp(&b.code));
    found
}

async fn languages_json() -> Response {
    (
        [(header::CACHE_CONTROL, "no-cache")],
        axum::Json(languages()),
    )
        .into_response()
}

#[derive(Deserialize)]
struct QrQuery {
    data: String,
}

/// The QR code of a link to one of the server's own pages, as SVG. Only paths of this server
/// (`/…`) or `http(s)` links are encoded, at most [`QR_MAX_LEN`] bytes.
async fn qr(query: Result<Query<QrQuery>, QueryRejection>) -> Response {
    let Ok(Query(QrQuery { data })) = query else {
        return bad_request("missing_data", "give the link to encode as `data`");
    };
    let link = data.starts_with('/') && !data.starts_with("//")
        || data.starts_with("https://")
        || data.starts_with("http://");
    if !link || data.len() > QR_MAX_LEN {
        return bad_request(
            "invalid_data",
            &format!("`data` must be a link of at most {QR_MAX_LEN} bytes"),
        );
    }
    match qrcode::QrCode::new(data.as_bytes()) {
        Ok(code) => {
            let svg = code
                .render::<qrcode::render::svg::Color<'_>>()
                .min_dimensions(160, 160)
                .quiet_zone(true)
                .build();
            (
                [
                    (header::CONTENT_TYPE, "image/svg+xml"),
                    (header::CACHE_CONTROL, "public, max-age=86400"),
                ],
                svg,
            )
                .into_response()
        }
        Err(e) => bad_request("invalid_data", &e.to_string()),
    }
}

fn bad_request(code: &str, message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        axum::Json(serde_json::json!({ "code": code, "message": message })),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt as _;

    use super::*;

    async fn get(uri: &str, etag: Option<&str>) -> Response {
        let mut request = Request::get(uri);
        if let Some(tag) = etag {
            request = request.header(header::IF_NONE_MATCH, tag);
        }
        router(WebSettings {
            home_organization: Some("org-1\"><script>".into()),
        })
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap()
    }

    async fn text(response: Response) -> String {
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 22)
            .await
            .unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn every_page_is_the_shell_naming_its_own_module() {
        for &(path, module) in PAGES {
            let uri = path
                .replace("{organization}", "o")
                .replace("{branch}", "b")
                .replace("{ticket}", "t")
                .replace("{code}", "c")
                .replace("{token}", "k")
                .replace("{survey}", "s");
            let response = get(&uri, None).await;
            assert_eq!(response.status(), StatusCode::OK, "{uri}");
            let html = text(response).await;
            assert!(
                html.contains(&format!("/assets/pages/{module}.js")),
                "{uri}"
            );
            assert!(!html.contains("{{"), "{uri}");
            assert!(html.contains("data-organization=\"org-1script\""), "{uri}");
            assert!(
                Assets::get(&format!("pages/{module}.css")).is_some(),
                "{module}.css"
            );
            assert!(
                Assets::get(&format!("pages/{module}.js")).is_some(),
                "{module}.js"
            );
        }
    }

    #[tokio::test]
    async fn assets_revalidate_by_etag_and_refuse_escapes() {
        let first = get("/assets/app.js", None).await;
        assert_eq!(first.status(), StatusCode::OK);
        assert_eq!(
            first.headers()[header::CONTENT_TYPE].to_str().unwrap(),
            "text/javascript"
        );
        let etag = first.headers()[header::ETAG].to_str().unwrap().to_owned();
        assert_eq!(
            get("/assets/app.js", Some(&etag)).await.status(),
            StatusCode::NOT_MODIFIED
        );
        assert_eq!(
            get("/assets/app.js", Some("\"other\"")).await.status(),
            StatusCode::OK
        );
        assert_eq!(
            get("/assets/../Cargo.toml", None).await.status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            get("/assets/nothing.js", None).await.status(),
            StatusCode::NOT_FOUND
        );
    }

    #[test]
    fn each_catalogue_is_a_language_with_every_key_of_english() {
        let langs = languages();
        let codes: Vec<&str> = langs.iter().map(|l| l.code.as_str()).collect();
        assert!(codes.contains(&"en") && codes.contains(&"fa"), "{codes:?}");
        assert_eq!(langs.iter().find(|l| l.code == "fa").unwrap().dir, "rtl");
        let keys = |code: &str| -> Vec<String> {
            let data = Assets::get(&format!("i18n/{code}.json")).unwrap();
            let value: serde_json::Value = serde_json::from_slice(&data.data).unwrap();
            let mut out = Vec::new();
            flatten("", &value, &mut out);
            out
        };
        let english = keys("en");
        for lang in &langs {
            let theirs = keys(&lang.code);
            let missing: Vec<&String> = english.iter().filter(|k| !theirs.contains(k)).collect();
            assert!(missing.is_empty(), "{} lacks {missing:?}", lang.code);
        }
    }

    fn flatten(prefix: &str, value: &serde_json::Value, out: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    flatten(&format!("{prefix}{k}."), v, out);
                }
            }
            _ => out.push(prefix.trim_end_matches('.').to_owned()),
        }
    }

    #[tokio::test]
    async fn qr_codes_encode_links_only() {
        let ok = get("/qr.svg?data=%2Ftrack%2Fb%2Ft", None).await;
        assert_eq!(ok.status(), StatusCode::OK);
        assert!(text(ok).await.starts_with("<?xml"));
        for bad in [
            "/qr.svg",
            "/qr.svg?data=javascript:alert(1)",
            "/qr.svg?data=%2F%2Fevil",
        ] {
            assert_eq!(
                get(bad, None).await.status(),
                StatusCode::BAD_REQUEST,
                "{bad}"
            );
        }
        let long = format!("/qr.svg?data=%2F{}", "a".repeat(QR_MAX_LEN));
        assert_eq!(get(&long, None).await.status(), StatusCode::BAD_REQUEST);
    }
}
