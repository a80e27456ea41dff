//! The SVG charts: what each draws for typical data, Persian text, determinism, empty input,
//! XML escaping, and well-formed output for any input.

use cem_core::chrono::{Days, NaiveDate};
use cem_report::chart::{
    ChartOptions, ChartSize, Digits, HEAT_SCALE, PALETTE, arrivals_heat_map, service_level, trends,
    wait_distribution,
};
use proptest::prelude::*;

fn hex((r, g, b): (u8, u8, u8)) -> String {
    format!("#{r:02X}{g:02X}{b:02X}")
}

/// Elements `<tag …>` whose attributes contain `attr` (the backend writes one element a line).
fn count(svg: &str, tag: &str, attr: &str) -> usize {
    let open = format!("<{tag} ");
    svg.lines()
        .filter(|l| l.starts_with(&open) && l.contains(attr))
        .count()
}

fn fill(colour: (u8, u8, u8)) -> String {
    format!("fill=\"{}\"", hex(colour))
}

fn stroke(colour: (u8, u8, u8)) -> String {
    format!("stroke=\"{}\"", hex(colour))
}

fn day(n: u64) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, 1).unwrap() + Days::new(n)
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn persian() -> ChartOptions {
    ChartOptions {
        digits: Digits::Persian,
        x_caption: "زمان انتظار".into(),
        y_caption: "نوبت‌ها".into(),
        no_data: "داده‌ای نیست".into(),
        target: "هدف".into(),
        ..ChartOptions::default()
    }
}

/// A small XML well-formedness check: one root `<svg>` element, tags balanced and properly
/// nested, attribute values quoted, `&` only in entities, and no character XML forbids.
fn well_formed(svg: &str) -> Result<(), String> {
    if !svg.starts_with("<svg ") {
        return Err("does not start with <svg".into());
    }
    if !svg.trim_end().ends_with("</svg>") {
        return Err("does not end with </svg>".into());
    }
    if let Some(c) = svg.chars().find(|&c| {
        (c < ' ' && !matches!(c, '\t' | '\n' | '\r')) || c == '\u{FFFE}' || c == '\u{FFFF}'
    }) {
        return Err(format!("character {c:?} is not allowed in XML"));
    }
    let entities = |text: &str| -> Result<(), String> {
        for (i, _) in text.match_indices('&') {
            let rest = &text[i + 1..];
            let end = rest.find(';').ok_or("& without ;")?;
            let name = &rest[..end];
            let numeric = name
                .strip_prefix('#')
                .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
            if !(numeric || matches!(name, "lt" | "gt" | "amp" | "quot" | "apos")) {
                return Err(format!("bad entity &{name};"));
            }
        }
        Ok(())
    };
    let mut stack: Vec<&str> = Vec::new();
    let mut rest = svg;
    let mut closed_root = false;
    while let Some(start) = rest.find('<') {
        let text = &rest[..start];
        if closed_root && !text.trim().is_empty() {
            return Err("content after the root element".into());
        }
        entities(text)?;
        let after = &rest[start + 1..];
        let end = after.find('>').ok_or("unterminated tag")?;
        let tag = &after[..end];
        if tag.contains('<') {
            return Err(format!("< inside tag {tag:?}"));
        }
        if let Some(name) = tag.strip_prefix('/') {
            match stack.pop() {
                Some(open) if open == name.trim() => {}
                other => return Err(format!("</{name}> closes {other:?}")),
            }
            closed_root |= stack.is_empty();
        } else {
            if closed_root {
                return Err("second root element".into());
            }
            let self_closing = tag.ends_with('/');
            let body = tag.trim_end_matches('/');
            let name = body.split_whitespace().next().ok_or("empty tag")?;
            let attrs = &body[name.len()..];
            if !attrs.matches('"').count().is_multiple_of(2) {
                return Err(format!("unbalanced quotes in {tag:?}"));
            }
            for part in attrs.split('"').step_by(2) {
                // Outside the quotes: only names, `=` and spaces.
                if part.chars().any(|c| {
                    !(c.is_ascii_alphanumeric()
                        || matches!(c, '-' | ':' | '=' | '_')
                        || c.is_whitespace())
                }) {
                    return Err(format!("stray characters {part:?} in {tag:?}"));
                }
            }
            entities(attrs)?;
            if !self_closing {
                stack.push(name);
            }
        }
        rest = &after[end + 1..];
    }
    if !stack.is_empty() {
        return Err(format!("unclosed {stack:?}"));
    }
    Ok(())
}

#[test]
fn the_well_formedness_check_rejects_broken_xml() {
    let good = wait_distribution("w", &buckets(), &ChartOptions::default());
    well_formed(&good).unwrap();
    let broken = [
        good.replacen("<title>", "<title><b>", 1),
        good.replacen("<title>w", "<title>a & b", 1),
        good.replacen("<title>w", "<title>a < b", 1),
        good.replacen("<title>w", "<title>\u{1}", 1),
        good.replacen("</title>", "</text>", 1),
        good.replacen("width=\"800\"", "width=\"800", 1),
        good.replacen("<svg ", "<svx ", 1),
        format!("{good}<svg></svg>"),
        good.trim_end().trim_end_matches("</svg>").to_owned(),
    ];
    for svg in &broken {
        assert!(
            well_formed(svg).is_err(),
            "accepted {:?}",
            &svg[..200.min(svg.len())]
        );
    }
}

fn buckets() -> Vec<(String, u64)> {
    [
        "0–5 min",
        "5–10 min",
        "10–15 min",
        "15–20 min",
        "20–30 min",
        "30+ min",
    ]
    .iter()
    .zip([120, 85, 40, 12, 0, 3])
    .map(|(l, c)| (l.to_string(), c))
    .collect()
}

fn week() -> (Vec<String>, Vec<String>, Vec<Vec<f64>>) {
    let rows = strings(&["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]);
    let cols: Vec<String> = (8..20).map(|h| format!("{h:02}:00")).collect();
    let values = (0..7)
        .map(|r| {
            (0..12)
                .map(|c| {
                    if r == 6 {
                        f64::NAN
                    } else {
                        (r * 12 + c) as f64
                    }
                })
                .collect()
        })
        .collect();
    (rows, cols, values)
}

fn daily() -> Vec<(NaiveDate, Option<f64>)> {
    // Runs: days 0–3, day 5 alone, days 7–9.
    (0..10)
        .map(|d| {
            (
                day(d),
                if d == 4 || d == 6 {
                    None
                } else {
                    Some(70.0 + d as f64)
                },
            )
        })
        .collect()
}

#[test]
fn wait_distribution_draws_one_bar_per_bucket() {
    let svg = wait_distribution("Waiting time", &buckets(), &ChartOptions::default());
    well_formed(&svg).unwrap();
    assert_eq!(count(&svg, "rect", &fill(PALETTE[0])), 6);
    assert!(svg.contains("<title>Waiting time</title>"));
    for label in ["0–5 min", "30+ min", "\n120\n", "\n0\n"] {
        assert!(svg.contains(label), "{label:?} missing");
    }
    assert!(svg.starts_with("<svg role=\"img\" width=\"800\" height=\"400\""));
}

#[test]
fn heat_map_draws_one_cell_per_finite_value() {
    let (rows, cols, mut values) = week();
    values[0][0] = f64::INFINITY;
    values[1].truncate(10); // a short row: two blank cells
    let svg = arrivals_heat_map("Arrivals", &rows, &cols, &values, &ChartOptions::default());
    well_formed(&svg).unwrap();
    let cells = count(&svg, "rect", "") - count(&svg, "rect", "fill=\"#FFFFFF\"");
    assert_eq!(cells, 6 * 12 - 1 - 2);
    // The smallest value (1, as 0 became infinite) is the lightest cell, the largest the darkest.
    assert_eq!(count(&svg, "rect", &fill(HEAT_SCALE[0])), 1);
    assert_eq!(count(&svg, "rect", &fill(HEAT_SCALE[2])), 1);
    assert!(
        svg.contains("\n1\n</text>") && svg.contains("\n71\n</text>"),
        "legend min and max"
    );
    assert!(
        svg.contains("<title>Arrivals</title>") && svg.contains("Sun") && svg.contains("08:00")
    );
}

#[test]
fn service_level_breaks_the_line_at_gaps_and_dashes_the_target() {
    let svg = service_level(
        "Service level",
        &daily(),
        Some(80.0),
        &ChartOptions::default(),
    );
    well_formed(&svg).unwrap();
    assert_eq!(count(&svg, "circle", &fill(PALETTE[0])), 8);
    assert_eq!(
        count(&svg, "polyline", &stroke(PALETTE[0])),
        2,
        "runs 0–3 and 7–9; day 5 is a dot"
    );
    assert!(
        count(&svg, "polyline", &stroke(PALETTE[1])) > 5,
        "the target is dashed"
    );
    assert!(svg.contains("target 80%") && svg.contains("\n100%\n"));

    let without = service_level("Service level", &daily(), None, &ChartOptions::default());
    assert_eq!(count(&without, "polyline", &stroke(PALETTE[1])), 0);
    assert!(!without.contains("target"));
}

#[test]
fn trends_draw_a_line_and_a_legend_entry_per_series() {
    let nps: Vec<_> = (0..6)
        .map(|w| {
            (
                day(w * 7),
                if w == 3 {
                    None
                } else {
                    Some(w as f64 * 10.0 - 20.0)
                },
            )
        })
        .collect();
    let csat: Vec<_> = (0..6)
        .map(|w| (day(w * 7), Some(80.0 + w as f64)))
        .collect();
    let series = vec![("NPS".to_string(), nps), ("CSAT".to_string(), csat)];
    let svg = trends(
        "NPS and CSAT",
        &series,
        (-100.0, 100.0),
        &ChartOptions::default(),
    );
    well_formed(&svg).unwrap();
    assert_eq!(count(&svg, "circle", &fill(PALETTE[0])), 5);
    assert_eq!(count(&svg, "polyline", &stroke(PALETTE[0])), 2);
    assert_eq!(count(&svg, "circle", &fill(PALETTE[1])), 6);
    assert_eq!(count(&svg, "polyline", &stroke(PALETTE[1])), 1);
    assert_eq!(count(&svg, "polygon", ""), 2, "a legend square per series");
    assert!(svg.contains("\nNPS\n") && svg.contains("\nCSAT\n") && svg.contains("\n-100\n"));
}

#[test]
fn persian_text_and_digits_come_out_intact() {
    let options = persian();
    let buckets: Vec<(String, u64)> = vec![("۰ تا ۵ دقیقه".into(), 120), ("بیش از ۵".into(), 7)];
    let svg = wait_distribution("توزیع زمان انتظار", &buckets, &options);
    well_formed(&svg).unwrap();
    assert!(svg.contains("<title>توزیع زمان انتظار</title>"));
    for text in [
        "۰ تا ۵ دقیقه",
        "بیش از ۵",
        "زمان انتظار",
        "نوبت\u{200C}ها",
        "\n۱۲۰\n",
        "\n۷\n",
    ] {
        assert!(svg.contains(text), "{text:?} missing");
    }
    // A right-to-left label is isolated so that its leading number stays on the right.
    assert!(svg.contains("\u{2067}۰ تا ۵ دقیقه\u{2069}"));
    assert!(!svg.contains("\n120\n"));

    let rows = strings(&["شنبه", "یکشنبه"]);
    let svg = arrivals_heat_map(
        "ورود مراجعان",
        &rows,
        &strings(&["۸", "۹"]),
        &[vec![1.5, 2.0], vec![3.0, 4.0]],
        &options,
    );
    assert!(svg.contains("یکشنبه") && svg.contains("\n۱٫۵\n") && svg.contains("\n۴\n"));

    let svg = service_level("سطح خدمت", &daily(), Some(80.0), &options);
    assert!(svg.contains("هدف ۸۰٪") && svg.contains("\n۱۰۰٪\n") && svg.contains("۲۰۲۶-۰۱-۰۱"));

    let series = vec![("خالص ترویج‌کنندگان".to_string(), daily())];
    let svg = trends("روند", &series, (-100.0, 100.0), &options);
    assert!(svg.contains("خالص ترویج\u{200C}کنندگان") && svg.contains("\n-۱۰۰\n"));
}

#[test]
fn date_format_is_the_callers() {
    let options = ChartOptions {
        date_format: |d| d.format("%d/%m").to_string(),
        ..ChartOptions::default()
    };
    let svg = service_level("Service level", &daily(), None, &options);
    assert!(svg.contains("\n01/01\n") && !svg.contains("2026-01-01"));
}

#[test]
fn the_same_input_gives_the_same_svg() {
    let (rows, cols, values) = week();
    let series = vec![("NPS".to_string(), daily()), ("CSAT".to_string(), daily())];
    let options = persian();
    let draw = || {
        [
            wait_distribution("w", &buckets(), &options),
            arrivals_heat_map("h", &rows, &cols, &values, &options),
            service_level("s", &daily(), Some(80.0), &options),
            trends("t", &series, (0.0, 100.0), &options),
        ]
    };
    assert_eq!(draw(), draw());
}

#[test]
fn empty_input_says_no_data() {
    let options = ChartOptions::default();
    let nan_row = vec![vec![f64::NAN; 3]];
    let none: Vec<(NaiveDate, Option<f64>)> = vec![(day(0), None), (day(1), Some(f64::INFINITY))];
    let charts = [
        wait_distribution("A", &[], &options),
        arrivals_heat_map("A", &[], &[], &[], &options),
        arrivals_heat_map(
            "A",
            &strings(&["Mon"]),
            &strings(&["8", "9", "10"]),
            &nan_row,
            &options,
        ),
        arrivals_heat_map("A", &strings(&["Mon"]), &strings(&["8"]), &[], &options),
        service_level("A", &[], Some(80.0), &options),
        service_level("A", &none, None, &options),
        trends("A", &[], (0.0, 100.0), &options),
        trends("A", &[("NPS".into(), none.clone())], (0.0, 100.0), &options),
    ];
    for svg in &charts {
        well_formed(svg).unwrap();
        assert!(
            svg.contains("<title>A</title>") && svg.contains("\nno data\n"),
            "{svg}"
        );
        assert_eq!(count(svg, "rect", ""), 1, "only the background");
    }
    let svg = trends("روند", &[], (0.0, 100.0), &persian());
    assert!(svg.contains("داده‌ای نیست"));
}

#[test]
fn special_characters_are_escaped() {
    let nasty = "a<b & \"c\" 'd'>";
    let escaped = "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;";
    let options = ChartOptions {
        x_caption: nasty.into(),
        y_caption: nasty.into(),
        ..ChartOptions::default()
    };
    let svgs = [
        wait_distribution(nasty, &[(nasty.to_string(), 3)], &options),
        arrivals_heat_map(
            nasty,
            &[nasty.to_string()],
            &[nasty.to_string()],
            &[vec![1.0]],
            &options,
        ),
        service_level(
            nasty,
            &daily(),
            Some(50.0),
            &ChartOptions {
                target: nasty.into(),
                ..options.clone()
            },
        ),
        trends(
            nasty,
            &[(nasty.to_string(), daily())],
            (0.0, 100.0),
            &options,
        ),
        trends(
            nasty,
            &[],
            (0.0, 100.0),
            &ChartOptions {
                no_data: nasty.into(),
                ..options.clone()
            },
        ),
    ];
    for svg in &svgs {
        well_formed(svg).unwrap();
        assert!(svg.contains(&format!("<title>{escaped}</title>")));
        assert!(
            svg.matches(escaped).count() >= 3,
            "title, label and caption: {svg}"
        );
        assert!(!svg.contains("a<b"));
    }
}

#[test]
fn size_is_honoured_and_clamped() {
    let big = ChartOptions {
        size: ChartSize {
            width: 1200,
            height: 600,
        },
        ..ChartOptions::default()
    };
    assert!(wait_distribution("w", &buckets(), &big).contains("width=\"1200\" height=\"600\""));
    let tiny = ChartOptions {
        size: ChartSize {
            width: 1,
            height: 0,
        },
        ..ChartOptions::default()
    };
    let svg = wait_distribution("w", &buckets(), &tiny);
    well_formed(&svg).unwrap();
    assert!(svg.contains(&format!(
        "width=\"{}\" height=\"{}\"",
        ChartSize::MIN.width,
        ChartSize::MIN.height
    )));
}

fn any_value() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => -1000.0..1000.0f64,
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(f64::NEG_INFINITY),
        1 => any::<f64>(),
    ]
}

fn any_points() -> impl Strategy<Value = Vec<(NaiveDate, Option<f64>)>> {
    prop::collection::vec(
        (
            prop_oneof![4 => 0u64..60, 1 => 0u64..3_000_000],
            prop::option::weighted(0.8, any_value()),
        )
            .prop_map(|(d, v)| (NaiveDate::from_ymd_opt(1, 1, 1).unwrap() + Days::new(d), v)),
        0..40,
    )
}

fn any_options() -> impl Strategy<Value = ChartOptions> {
    (0u32..5000, 0u32..5000, any::<bool>(), ".{0,12}", ".{0,12}").prop_map(
        |(width, height, fa, x, y)| ChartOptions {
            size: ChartSize { width, height },
            digits: if fa { Digits::Persian } else { Digits::Latin },
            x_caption: x,
            y_caption: y,
            ..ChartOptions::default()
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_buckets_give_well_formed_svg(
        buckets in prop::collection::vec((any::<String>(), any::<u64>()), 0..40),
        title in any::<String>(),
        options in any_options(),
    ) {
        let svg = wait_distribution(&title, &buckets, &options);
        prop_assert_eq!(well_formed(&svg), Ok(()));
        // Never the fallback: every bucket is drawn.
        prop_assert_eq!(count(&svg, "rect", &fill(PALETTE[0])), buckets.len());
    }

    #[test]
    fn any_heat_map_gives_well_formed_svg(
        rows in prop::collection::vec(".{0,10}", 0..9),
        cols in prop::collection::vec(".{0,6}", 0..30),
        values in prop::collection::vec(prop::collection::vec(any_value(), 0..30), 0..9),
        title in any::<String>(),
        options in any_options(),
    ) {
        let svg = arrivals_heat_map(&title, &rows, &cols, &values, &options);
        prop_assert_eq!(well_formed(&svg), Ok(()));
        let finite = values.iter().take(rows.len()).flat_map(|row| row.iter().take(cols.len())).filter(|v| v.is_finite()).count();
        prop_assert_eq!(count(&svg, "rect", "") - 1, finite);
    }

    #[test]
    fn any_service_level_gives_well_formed_svg(
        points in any_points(),
        target in prop::option::of(any_value()),
        options in any_options(),
    ) {
        let svg = service_level("Service level", &points, target, &options);
        prop_assert_eq!(well_formed(&svg), Ok(()));
        let finite = points.iter().filter(|(_, v)| v.is_some_and(f64::is_finite)).count();
        prop_assert_eq!(count(&svg, "circle", ""), finite);
    }

    #[test]
    fn any_trends_give_well_formed_svg(
        series in prop::collection::vec((any::<String>(), any_points()), 0..9),
        y_range in (any_value(), any_value()),
        options in any_options(),
    ) {
        let svg = trends("Trends", &series, y_range, &options);
        prop_assert_eq!(well_formed(&svg), Ok(()));
        let finite = series.iter().flat_map(|(_, p)| p).filter(|(_, v)| v.is_some_and(f64::is_finite)).count();
        prop_assert_eq!(count(&svg, "circle", ""), finite);
    }
}
