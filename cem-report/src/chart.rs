//! SVG charts for reports: the waiting-time distribution, the arrivals heat map, the
//! service level over time and the NPS/CSAT trends.
//!
//! Every chart is a pure function from plain data to a standalone SVG document (a `String`):
//! no IO, no fonts read at build or run time (text is written as SVG `<text>` and the viewer
//! lays it out), no external resources, and the same input always gives the same bytes.
//! Titles, axis captions and every other word come from the caller, so a chart can be English
//! or Persian; numbers on the axes may be written in Persian digits ([`Digits::Persian`]).
//!
//! Each document carries its title in a `<title>` element (the accessible name, read by screen
//! readers) and `role="img"`. Series use the colour-blind-safe Okabe–Ito [`PALETTE`]; the heat
//! map uses a single-hue scale from light to dark ([`HEAT_SCALE`]). Data that cannot be drawn
//! is skipped, never a panic: NaN and infinite values are gaps, and input with nothing to draw
//! gives a chart that says [`ChartOptions::no_data`].
//!
//! ```
//! use cem_report::chart::{ChartOptions, Digits, wait_distribution};
//!
//! let buckets = [("0–5 min".to_string(), 42), ("5–10 min".to_string(), 17)];
//! let svg = wait_distribution("Waiting time", &buckets, &ChartOptions::default());
//! assert!(svg.starts_with("<svg"));
//! assert!(svg.contains("<title>Waiting time</title>"));
//!
//! let persian = ChartOptions { digits: Digits::Persian, ..ChartOptions::default() };
//! let svg = wait_distribution("زمان انتظار", &buckets, &persian);
//! assert!(svg.contains("زمان انتظار") && svg.contains("۴۲"));
//! ```

use std::error::Error;
use std::ops::Range;

use cem_core::Language;
use cem_core::chrono::{Datelike, NaiveDate};
use plotters::coord::Shift;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::coord::types::RangedCoordf64;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde::{Deserialize, Serialize};

/// The Okabe–Ito colours (Okabe & Ito, 2008), safe for the common colour-vision deficiencies,
/// in the order chart series take them as `(red, green, blue)`: blue, vermillion, bluish green,
/// reddish purple, orange, sky blue, black. The yellow of the original set is left out: it is
/// unreadable as a line on white. The SVG writes them as `#RRGGBB` in upper case.
pub const PALETTE: [(u8, u8, u8); 7] = [
    (0x00, 0x72, 0xB2),
    (0xD5, 0x5E, 0x00),
    (0x00, 0x9E, 0x73),
    (0xCC, 0x79, 0xA7),
    (0xE6, 0x9F, 0x00),
    (0x56, 0xB4, 0xE9),
    (0x00, 0x00, 0x00),
];

/// The heat map's colour scale: the lowest value takes the first colour, the middle one the
/// second, the highest the last, with linear interpolation between. One hue from light to
/// dark, so it reads by lightness alone (colour-blind safe and in greyscale print). The
/// lightest colour is tinted so that the lowest value stays distinct from an empty (white) cell.
pub const HEAT_SCALE: [(u8, u8, u8); 3] =
    [(0xDE, 0xEB, 0xF7), (0x6B, 0xAE, 0xD6), (0x08, 0x30, 0x6B)];

/// Values over time, one per date; `None` (like NaN or an infinite value) is a gap in the line.
pub type Points = Vec<(NaiveDate, Option<f64>)>;

/// The size of a chart in SVG user units (pixels).
///
/// Sizes are clamped to [`ChartSize::MIN`]..=[`ChartSize::MAX`] so that the axes always fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ChartSize {
    /// The width.
    pub width: u32,
    /// The height.
    pub height: u32,
}

impl ChartSize {
    /// The smallest size drawn; smaller requests are enlarged to it.
    pub const MIN: ChartSize = ChartSize {
        width: 240,
        height: 160,
    };
    /// The largest size drawn; larger requests are reduced to it.
    pub const MAX: ChartSize = ChartSize {
        width: 4000,
        height: 4000,
    };

    fn clamped(self) -> (u32, u32) {
        (
            self.width.clamp(Self::MIN.width, Self::MAX.width),
            self.height.clamp(Self::MIN.height, Self::MAX.height),
        )
    }
}

impl Default for ChartSize {
    /// 800 × 400.
    fn default() -> Self {
        ChartSize {
            width: 800,
            height: 400,
        }
    }
}

/// How the numbers a chart writes itself (axis ticks, bar values, the heat map's legend, the
/// target, dates) are spelled. Labels the caller passes in are written as given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Digits {
    /// `0123456789`, `.` and `%`.
    #[default]
    Latin,
    /// Extended Arabic-Indic digits `۰۱۲۳۴۵۶۷۸۹`, the Persian decimal separator `٫` and the
    /// Persian percent sign `٪`.
    Persian,
}

impl Digits {
    /// Persian digits for Persian (`fa`, `fa-IR`, …), Latin for every other language.
    pub fn for_language(language: &Language) -> Self {
        let tag = language.as_str();
        if tag == "fa" || tag.starts_with("fa-") {
            Digits::Persian
        } else {
            Digits::Latin
        }
    }

    /// Rewrites the ASCII digits, `.` and `%` of `text` in these digits; other characters are
    /// kept.
    ///
    /// ```
    /// use cem_report::chart::Digits;
    /// assert_eq!(Digits::Persian.apply("12.5%"), "۱۲٫۵٪");
    /// assert_eq!(Digits::Latin.apply("12.5%"), "12.5%");
    /// ```
    pub fn apply(self, text: &str) -> String {
        match self {
            Digits::Latin => text.to_owned(),
            Digits::Persian => text
                .chars()
                .map(|c| match c {
                    '0'..='9' => char::from_u32(0x06F0 + (c as u32 - '0' as u32)).unwrap_or(c),
                    '.' => '\u{066B}',
                    '%' => '\u{066A}',
                    other => other,
                })
                .collect(),
        }
    }
}

/// Everything about a chart that is not data: its size, how numbers are written and the words
/// it needs besides the title, all supplied by the caller in the report's language.
#[derive(Debug, Clone)]
pub struct ChartOptions {
    /// The size of the SVG.
    pub size: ChartSize,
    /// How the chart writes numbers and dates.
    pub digits: Digits,
    /// The caption under the horizontal axis (e.g. "waiting time", "hour"); none when empty.
    pub x_caption: String,
    /// The caption beside the vertical axis (e.g. "tickets", "weekday"); none when empty.
    pub y_caption: String,
    /// The message of a chart with nothing to draw. Default "no data".
    pub no_data: String,
    /// The word written before the target value on [`service_level`]. Default "target".
    pub target: String,
    /// Writes a date on a time axis, before [`digits`](Self::digits) are applied. Default ISO
    /// 8601 (`2026-01-05`); pass a Solar Hijri formatter for Persian reports.
    pub date_format: fn(NaiveDate) -> String,
}

impl Default for ChartOptions {
    fn default() -> Self {
        ChartOptions {
            size: ChartSize::default(),
            digits: Digits::Latin,
            x_caption: String::new(),
            y_caption: String::new(),
            no_data: "no data".to_owned(),
            target: "target".to_owned(),
            date_format: iso_date,
        }
    }
}

fn iso_date(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

/// A bar chart of waiting times: one bar per bucket, in the given order, labelled with the
/// bucket's label (e.g. "0–5 min") and its count.
///
/// Draws exactly one `<rect>` per bucket (a zero count is a bar of height 0) besides the white
/// background, filled with `PALETTE[0]`. No buckets gives the "no data" chart.
pub fn wait_distribution(title: &str, buckets: &[(String, u64)], options: &ChartOptions) -> String {
    if buckets.is_empty() {
        return no_data(title, options);
    }
    render(title, options, |body| {
        let n = buckets.len();
        let max = buckets.iter().map(|(_, c)| *c).max().unwrap_or(0) as f64;
        let top = (max * 1.15).max(1.0);
        let (w, _) = body.dim_in_pixel();
        let y_area = 24 + axis_label_width(&ticks(0.0, top, 6, true), options.digits, fmt_num);
        let x_area = 30 + caption_room(&options.x_caption);
        let plot_w = f64::from(w.saturating_sub(2 * MARGIN + y_area).max(1));
        let slot = plot_w / n as f64;
        let step = label_step(buckets.iter().map(|(l, _)| l.as_str()), slot);
        let centres: Vec<f64> = (0..n).step_by(step).map(|i| i as f64 + 0.5).collect();

        let mut chart = ChartBuilder::on(body)
            .margin(MARGIN)
            .x_label_area_size(x_area)
            .y_label_area_size(y_area + caption_room(&options.y_caption))
            .build_cartesian_2d(
                Axis::new(0.0..n as f64, centres),
                Axis::new(0.0..top, ticks(0.0, top, 6, true)),
            )?;
        let x_fmt = |v: &f64| category(buckets.iter().map(|(l, _)| l), *v);
        let y_fmt = |v: &f64| options.digits.apply(&fmt_num(*v));
        let mut mesh = chart.configure_mesh();
        mesh.disable_x_mesh()
            .bold_line_style(GRID)
            .label_style(label_font())
            .axis_desc_style(label_font())
            .x_label_formatter(&x_fmt)
            .y_label_formatter(&y_fmt);
        captions(&mut mesh, options);
        mesh.draw()?;

        let colour = rgb(PALETTE[0]);
        let gap = (slot * 0.15).round().clamp(0.0, 12.0) as u32;
        chart.draw_series(buckets.iter().enumerate().map(|(i, (_, count))| {
            let x = i as f64;
            let mut bar = Rectangle::new([(x, 0.0), (x + 1.0, *count as f64)], colour.filled());
            bar.set_margin(0, 0, gap, gap);
            bar
        }))?;
        let values: Vec<String> = buckets
            .iter()
            .map(|(_, c)| options.digits.apply(&c.to_string()))
            .collect();
        if values.iter().all(|v| text_width(v) <= slot) {
            let style = label_font().pos(Pos::new(HPos::Center, VPos::Bottom));
            chart.draw_series(buckets.iter().zip(&values).enumerate().map(
                |(i, ((_, count), value))| {
                    Text::new(
                        value.clone(),
                        (i as f64 + 0.5, *count as f64),
                        style.clone(),
                    )
                },
            ))?;
        }
        Ok(())
    })
}

/// A heat map of arrivals: one cell per row (e.g. weekday) and column (e.g. hour), darker for
/// more. `values[r][c]` is the cell of `rows[r]` and `cols[c]`; a missing, NaN or infinite
/// value leaves its cell blank. A legend beside the map shows the colour scale with the
/// smallest and largest value.
///
/// Draws exactly one `<rect>` per non-blank cell besides the white background; the legend is
/// drawn with `<polygon>`s. No rows, no columns or no finite value gives the "no data" chart.
pub fn arrivals_heat_map(
    title: &str,
    rows: &[String],
    cols: &[String],
    values: &[Vec<f64>],
    options: &ChartOptions,
) -> String {
    let cell = |r: usize, c: usize| {
        values
            .get(r)
            .and_then(|row| row.get(c))
            .copied()
            .filter(|v| v.is_finite())
    };
    let cells: Vec<(usize, usize, f64)> = (0..rows.len())
        .flat_map(|r| (0..cols.len()).filter_map(move |c| cell(r, c).map(|v| (r, c, v))))
        .collect();
    let Some(min) = cells.iter().map(|(_, _, v)| *v).reduce(f64::min) else {
        return no_data(title, options);
    };
    let max = cells.iter().map(|(_, _, v)| *v).fold(min, f64::max);
    render(title, options, |body| {
        let (w, h) = body.dim_in_pixel();
        let (map, legend) = body.split_horizontally(w.saturating_sub(LEGEND_WIDTH));
        let (n_rows, n_cols) = (rows.len(), cols.len());
        let y_area = 12
            + rows
                .iter()
                .map(|r| text_width(r))
                .fold(0.0, f64::max)
                .clamp(20.0, 200.0) as u32;
        let y_area_total = y_area + caption_room(&options.y_caption);
        let x_area = 30 + caption_room(&options.x_caption);
        let plot_w = f64::from(
            w.saturating_sub(LEGEND_WIDTH + 2 * MARGIN + y_area_total)
                .max(1),
        );
        let plot_h = f64::from(h.saturating_sub(2 * MARGIN + x_area).max(1));
        let col_step = label_step(cols.iter().map(String::as_str), plot_w / n_cols as f64);
        let row_step = ((LABEL_HEIGHT / (plot_h / n_rows as f64)).ceil() as usize).max(1);
        let col_centres: Vec<f64> = (0..n_cols)
            .step_by(col_step)
            .map(|c| c as f64 + 0.5)
            .collect();
        // Row 0 at the top: row r occupies y ∈ [n - r - 1, n - r].
        let row_centres: Vec<f64> = (0..n_rows)
            .step_by(row_step)
            .map(|r| (n_rows - r) as f64 - 0.5)
            .collect();

        let mut chart = ChartBuilder::on(&map)
            .margin(MARGIN)
            .x_label_area_size(x_area)
            .y_label_area_size(y_area_total)
            .build_cartesian_2d(
                Axis::new(0.0..n_cols as f64, col_centres),
                Axis::new(0.0..n_rows as f64, row_centres),
            )?;
        let x_fmt = |v: &f64| category(cols.iter(), *v);
        let y_fmt = |v: &f64| category(rows.iter().rev(), *v);
        let mut mesh = chart.configure_mesh();
        mesh.disable_mesh()
            .label_style(label_font())
            .axis_desc_style(label_font())
            .x_label_formatter(&x_fmt)
            .y_label_formatter(&y_fmt);
        captions(&mut mesh, options);
        mesh.draw()?;

        chart.draw_series(cells.iter().map(|&(r, c, v)| {
            let (x, y) = (c as f64, (n_rows - r - 1) as f64);
            let mut rect = Rectangle::new(
                [(x, y), (x + 1.0, y + 1.0)],
                heat_colour(unit(v, min, max)).filled(),
            );
            rect.set_margin(1, 1, 1, 1);
            rect
        }))?;

        // The legend: a vertical colour bar, largest value on top, beside the map's rows.
        let top = MARGIN as i32;
        let bottom = (h.saturating_sub(MARGIN + x_area) as i32).max(top + 20);
        let (left, right) = (12, 28);
        let steps = 32;
        let span = f64::from(bottom - top);
        legend.draw(&PathElement::new(
            vec![
                (left - 1, top - 1),
                (right, top - 1),
                (right, bottom),
                (left - 1, bottom),
                (left - 1, top - 1),
            ],
            GREY_LINE,
        ))?;
        for s in 0..steps {
            let y0 = top + (span * f64::from(s) / f64::from(steps)).round() as i32;
            let y1 = top + (span * f64::from(s + 1) / f64::from(steps)).round() as i32;
            let t = 1.0 - (f64::from(s) + 0.5) / f64::from(steps);
            legend.draw(&Polygon::new(
                vec![(left, y0), (right, y0), (right, y1), (left, y1)],
                heat_colour(t).filled(),
            ))?;
        }
        let style = label_font().pos(Pos::new(HPos::Left, VPos::Center));
        legend.draw(&Text::new(
            options.digits.apply(&fmt_num(max)),
            (right + 6, top),
            style.clone(),
        ))?;
        legend.draw(&Text::new(
            options.digits.apply(&fmt_num(min)),
            (right + 6, bottom),
            style,
        ))?;
        Ok(())
    })
}

/// The service level over time: a line through the daily percentages (clamped to 0–100) with a
/// dot on each, broken where a value is `None`, NaN or infinite, and the target, if any, as a
/// dashed line labelled with [`ChartOptions::target`] and its value, right of the plot. Points are sorted by date; a date that is absent
/// is not a gap, the line joins its neighbours.
///
/// Draws one `<circle>` per drawn point and one `<polyline>` per unbroken run of two or more
/// points, both in `PALETTE[0]`; the dashed target is made of short `<polyline>`s in
/// `PALETTE[1]`. No finite value gives the "no data" chart.
pub fn service_level(
    title: &str,
    points: &[(NaiveDate, Option<f64>)],
    target: Option<f64>,
    options: &ChartOptions,
) -> String {
    let series = [(String::new(), points.to_vec())];
    let Some(days) = day_span(&series) else {
        return no_data(title, options);
    };
    let target = target
        .filter(|t| t.is_finite())
        .map(|t| t.clamp(0.0, 100.0));
    render(title, options, |body| {
        let percent = |v: &f64| options.digits.apply(&format!("{}%", fmt_num(*v)));
        let label = target.map(|t| bidi(&format!("{} {}", options.target, percent(&t))));
        let right = label
            .as_deref()
            .map_or(0.0, |l| text_width(l) + 10.0)
            .min(f64::from(body.dim_in_pixel().0 / 3));
        let y_ticks = ticks(0.0, 100.0, 5, false);
        let mut chart = time_chart(
            body,
            days,
            (0.0, 100.0),
            y_ticks,
            &percent,
            right as u32,
            options,
        )?;
        draw_line(&mut chart, &series[0].1, (0.0, 100.0), rgb(PALETTE[0]))?;
        if let (Some(t), Some(label)) = (target, label) {
            let (x0, x1) = (chart.x_range().start, chart.x_range().end);
            let colour = rgb(PALETTE[1]);
            chart.draw_series(std::iter::once(DashedPathElement::new(
                vec![(x0, t), (x1, t)],
                8.0,
                5.0,
                colour.stroke_width(2),
            )))?;
            // Written right of the plot, where no data point can hide it.
            let style = label_font()
                .color(&colour)
                .pos(Pos::new(HPos::Left, VPos::Center));
            chart.draw_series(std::iter::once(
                EmptyElement::at((x1, t)) + Text::new(label, (6, 0), style),
            ))?;
        }
        Ok(())
    })
}

/// Trends of several scores over time (e.g. NPS and CSAT): one line per series in the colours
/// of [`PALETTE`] in order, each with a dot per value, broken where a value is `None`, NaN or
/// infinite, on a vertical axis from `y_range.0` to `y_range.1` (values outside are clamped; a
/// range that is not finite and increasing is replaced by one around the data). A legend under
/// the chart names the series with a square of their colour.
///
/// Draws, per series, one `<circle>` per drawn point and one `<polyline>` per unbroken run of
/// two or more points in the series' colour; the legend's squares are `<polygon>`s. No finite
/// value in any series gives the "no data" chart.
pub fn trends(
    title: &str,
    series: &[(String, Points)],
    y_range: (f64, f64),
    options: &ChartOptions,
) -> String {
    let Some(days) = day_span(series) else {
        return no_data(title, options);
    };
    let (lo, hi) = value_range(series, y_range);
    render(title, options, |body| {
        let (w, h) = body.dim_in_pixel();
        let (plot, legend) = body.split_vertically(h.saturating_sub(LEGEND_HEIGHT));
        let value = |v: &f64| options.digits.apply(&fmt_num(*v));
        let mut chart = time_chart(
            &plot,
            days,
            (lo, hi),
            ticks(lo, hi, 6, false),
            &value,
            0,
            options,
        )?;
        for (i, (_, points)) in series.iter().enumerate() {
            draw_line(
                &mut chart,
                points,
                (lo, hi),
                rgb(PALETTE[i % PALETTE.len()]),
            )?;
        }

        let style = label_font().pos(Pos::new(HPos::Left, VPos::Center));
        let y = (LEGEND_HEIGHT / 2) as i32;
        let mut x = (MARGIN * 2) as i32;
        for (i, (name, _)) in series.iter().enumerate() {
            if x > w as i32 {
                break;
            }
            let colour = rgb(PALETTE[i % PALETTE.len()]);
            legend.draw(&Polygon::new(
                vec![(x, y - 6), (x + 12, y - 6), (x + 12, y + 6), (x, y + 6)],
                colour.filled(),
            ))?;
            legend.draw(&Text::new(bidi(name), (x + 18, y), style.clone()))?;
            x += 18 + text_width(name).min(f64::from(w)) as i32 + 24;
        }
        Ok(())
    })
}

const MARGIN: u32 = 12;
const LEGEND_WIDTH: u32 = 90;
const LEGEND_HEIGHT: u32 = 30;
/// The room one line of label text needs, in pixels.
const LABEL_HEIGHT: f64 = 16.0;
/// Plotters' font sizes are 1.24 times the CSS pixel size it writes to the SVG: 12 and 16 px.
const LABEL_FONT: f64 = 12.0 * 1.24;
const TITLE_FONT: f64 = 16.0 * 1.24;
const GRID: RGBAColor = RGBAColor(0, 0, 0, 0.12);
const GREY_LINE: RGBColor = RGBColor(0x99, 0x99, 0x99);

type DrawResult = Result<(), Box<dyn Error>>;
type TimeChart<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<Axis, Axis>>;

/// A linear f64 axis whose ticks are chosen here: plotters' own f64 axis cannot take fixed
/// key points and custom labels together (`WithKeyPoints<RangedCoordf64>` has no formatter).
#[derive(Debug, Clone)]
struct Axis {
    range: Range<f64>,
    ticks: Vec<f64>,
}

impl Axis {
    fn new(range: Range<f64>, ticks: Vec<f64>) -> Self {
        Axis { range, ticks }
    }
}

impl Ranged for Axis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        RangedCoordf64::from(self.range.clone()).map(value, limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        // Ticks only; no light grid lines in between.
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        self.range.clone()
    }
}

fn label_font() -> TextStyle<'static> {
    TextStyle::from(("sans-serif", LABEL_FONT).into_font())
}

fn rgb((r, g, b): (u8, u8, u8)) -> RGBColor {
    RGBColor(r, g, b)
}

/// Draws with `draw` under the title; if plotters reports an error the "no data" chart stands
/// in, so a caller always gets a well-formed document.
fn render(
    title: &str,
    options: &ChartOptions,
    draw: impl FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> DrawResult,
) -> String {
    let mut buf = String::new();
    let drawn = {
        let root = SVGBackend::with_string(&mut buf, options.size.clamped()).into_drawing_area();
        root.fill(&WHITE)
            .map_err(Box::<dyn Error>::from)
            .and_then(|()| {
                root.titled(&bidi(title), ("sans-serif", TITLE_FONT))
                    .map_err(Box::<dyn Error>::from)
            })
            .and_then(|body| draw(&body))
            .and_then(|()| root.present().map_err(Box::<dyn Error>::from))
            .is_ok()
    };
    if drawn {
        finish(buf, title)
    } else {
        no_data(title, options)
    }
}

/// The chart for input with nothing to draw: the title and [`ChartOptions::no_data`].
fn no_data(title: &str, options: &ChartOptions) -> String {
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, options.size.clamped()).into_drawing_area();
        let (w, h) = root.dim_in_pixel();
        let style = TextStyle::from(("sans-serif", TITLE_FONT).into_font())
            .color(&GREY_LINE)
            .pos(Pos::new(HPos::Center, VPos::Center));
        // Writing to a String cannot fail; whatever was written is closed by `present`.
        let _ = root
            .fill(&WHITE)
            .and_then(|()| root.titled(&bidi(title), ("sans-serif", TITLE_FONT)))
            .and_then(|_| {
                root.draw_text(
                    &bidi(&options.no_data),
                    &style,
                    ((w / 2) as i32, (h / 2) as i32),
                )
            });
        let _ = root.present();
    }
    finish(buf, title)
}

/// Adds `role="img"` and the `<title>` element plotters does not write.
fn finish(svg: String, title: &str) -> String {
    let Some(rest) = svg.strip_prefix("<svg ") else {
        return svg;
    };
    let Some(end) = rest.find('>') else {
        return svg;
    };
    let mut out = String::with_capacity(svg.len() + title.len() + 40);
    out.push_str("<svg role=\"img\" ");
    out.push_str(&rest[..=end]);
    out.push_str("\n<title>");
    escape_xml(&mut out, title);
    out.push_str("</title>");
    out.push_str(&rest[end + 1..]);
    out
}

fn escape_xml(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if !xml_char(c) => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
}

/// Caller text as a chart writes it: characters XML cannot carry (controls other than tab and
/// line breaks, U+FFFE, U+FFFF) become U+FFFD, and text whose first strong character is
/// right-to-left (Persian, Arabic, Hebrew) is put in a right-to-left isolate (U+2067 … U+2069).
/// An SVG `<text>` runs left to right unless told otherwise, which would put the leading number
/// of "۰ تا ۵ دقیقه" on the wrong side; the isolate orders the label without changing how it
/// is anchored. (Escaping `<`, `&` and `"` is the SVG backend's job.)
fn bidi(text: &str) -> String {
    let clean: String = text
        .chars()
        .map(|c| if xml_char(c) { c } else { '\u{FFFD}' })
        .collect();
    let rtl = |c: char| matches!(c, '\u{0590}'..='\u{08FF}' | '\u{FB1D}'..='\u{FDFF}' | '\u{FE70}'..='\u{FEFF}');
    match clean.chars().find(|c| c.is_alphabetic()) {
        Some(c) if rtl(c) => format!("\u{2067}{clean}\u{2069}"),
        _ => clean,
    }
}

/// Whether XML 1.0 allows `c` in a document at all.
fn xml_char(c: char) -> bool {
    !((c < ' ' && !matches!(c, '\t' | '\n' | '\r')) || matches!(c, '\u{FFFE}' | '\u{FFFF}'))
}

/// The label of the category whose centre is at `v` (category `i` occupies `i..i + 1`).
fn category<'s>(labels: impl Iterator<Item = &'s String>, v: f64) -> String {
    let i = (v - 0.5).round();
    if i < 0.0 {
        return String::new();
    }
    labels
        .into_iter()
        .nth(i as usize)
        .map(|l| bidi(l))
        .unwrap_or_default()
}

/// The estimated width of `text` in label font: about 0.6 em a character, as no font is read.
fn text_width(text: &str) -> f64 {
    text.chars().count() as f64 * LABEL_FONT / 1.24 * 0.6
}

/// Every how many categories a label fits in slots of `slot` pixels.
fn label_step<'s>(labels: impl Iterator<Item = &'s str>, slot: f64) -> usize {
    let widest = labels.map(text_width).fold(0.0, f64::max) + 8.0;
    if slot <= 0.0 {
        1
    } else {
        ((widest / slot).ceil() as usize).max(1)
    }
}

fn axis_label_width(ticks: &[f64], digits: Digits, fmt: fn(f64) -> String) -> u32 {
    ticks
        .iter()
        .map(|t| text_width(&digits.apply(&fmt(*t))))
        .fold(0.0, f64::max)
        .min(200.0) as u32
}

fn caption_room(caption: &str) -> u32 {
    if caption.is_empty() { 0 } else { 20 }
}

fn captions<X: Ranged, Y: Ranged>(
    mesh: &mut plotters::chart::MeshStyle<'_, '_, X, Y, SVGBackend<'_>>,
    options: &ChartOptions,
) {
    if !options.x_caption.is_empty() {
        mesh.x_desc(bidi(&options.x_caption));
    }
    if !options.y_caption.is_empty() {
        mesh.y_desc(bidi(&options.y_caption));
    }
}

/// A number as an axis writes it: integers without decimals, others with at most two.
fn fmt_num(v: f64) -> String {
    if !v.is_finite() {
        return String::new();
    }
    if v.abs() >= 1e12 {
        return format!("{v:.2e}");
    }
    let r = (v * 100.0).round() / 100.0;
    if r == 0.0 {
        return "0".to_owned();
    }
    let s = format!("{r:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// About `n` evenly spaced round values (1, 2 or 5 times a power of ten apart) in `lo..=hi`;
/// whole numbers only when `integral`.
fn ticks(lo: f64, hi: f64, n: usize, integral: bool) -> Vec<f64> {
    let span = hi - lo;
    if !(span.is_finite() && span > 0.0) {
        return vec![lo];
    }
    let raw = span / n.max(1) as f64;
    let magnitude = 10f64.powf(raw.log10().floor());
    let mut step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(raw);
    if integral {
        step = step.max(1.0).round();
    }
    let first = (lo / step).ceil();
    (0..=n * 2 + 2)
        .map(|i| (first + i as f64) * step)
        .take_while(|v| *v <= hi + step * 1e-9)
        .map(|v| if v.abs() < step * 1e-9 { 0.0 } else { v })
        .collect()
}

fn unit(v: f64, min: f64, max: f64) -> f64 {
    // Halved so that the difference of two finite values cannot overflow.
    let span = max / 2.0 - min / 2.0;
    if span > 0.0 {
        ((v / 2.0 - min / 2.0) / span).clamp(0.0, 1.0)
    } else {
        0.5
    }
}

fn heat_colour(t: f64) -> RGBColor {
    let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
    let scaled = t * (HEAT_SCALE.len() - 1) as f64;
    let i = (scaled.floor() as usize).min(HEAT_SCALE.len() - 2);
    let f = scaled - i as f64;
    let (a, b) = (HEAT_SCALE[i], HEAT_SCALE[i + 1]);
    let mix = |x: u8, y: u8| (f64::from(x) + (f64::from(y) - f64::from(x)) * f).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// The first and last day (days since the Common Era) with a finite value, if any.
fn day_span(series: &[(String, Points)]) -> Option<(i32, i32)> {
    let days = series
        .iter()
        .flat_map(|(_, points)| points)
        .filter(|(_, v)| v.is_some_and(f64::is_finite));
    days.map(|(d, _)| d.num_days_from_ce())
        .fold(None, |span, d| match span {
            None => Some((d, d)),
            Some((lo, hi)) => Some((lo.min(d), hi.max(d))),
        })
}

/// `wanted` if it is a usable range, else the data's range with some room.
fn value_range(series: &[(String, Points)], wanted: (f64, f64)) -> (f64, f64) {
    let (lo, hi) = wanted;
    if lo.is_finite() && hi.is_finite() && lo < hi && (hi - lo).is_finite() {
        return wanted;
    }
    let values = series
        .iter()
        .flat_map(|(_, p)| p)
        .filter_map(|(_, v)| *v)
        .filter(|v| v.is_finite());
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    let (lo, hi) = (lo.clamp(-1e300, 1e300), hi.clamp(-1e300, 1e300));
    if lo < hi {
        (lo, hi)
    } else {
        (lo - 1.0, lo + 1.0)
    }
}

/// The frame of a chart over days: dates on x, `y` on y with the given ticks and formatter.
fn time_chart<'a, 'b>(
    area: &'a DrawingArea<SVGBackend<'b>, Shift>,
    (first, last): (i32, i32),
    (lo, hi): (f64, f64),
    y_ticks: Vec<f64>,
    y_fmt: &dyn Fn(&f64) -> String,
    right: u32,
    options: &ChartOptions,
) -> Result<TimeChart<'a, 'b>, Box<dyn Error>> {
    let (w, _) = area.dim_in_pixel();
    let y_area = 16
        + y_ticks
            .iter()
            .map(|t| text_width(&y_fmt(t)))
            .fold(0.0, f64::max)
            .min(200.0) as u32;
    let x_area = 30 + caption_room(&options.x_caption);
    let pad = (f64::from(last - first) * 0.03).max(0.5);
    let (x0, x1) = (f64::from(first) - pad, f64::from(last) + pad);

    let date_label = |v: &f64| {
        NaiveDate::from_num_days_from_ce_opt(v.round() as i32)
            .map(|d| bidi(&options.digits.apply(&(options.date_format)(d))))
            .unwrap_or_default()
    };
    let sample = NaiveDate::from_num_days_from_ce_opt(last)
        .map(options.date_format)
        .unwrap_or_default();
    let plot_w = f64::from(w.saturating_sub(2 * MARGIN + right + y_area).max(1));
    let max_labels = ((plot_w / (text_width(&sample) + 16.0)) as i64).max(1);
    let days = i64::from(last) - i64::from(first);
    let step = (days / max_labels + 1).max(1);
    let x_ticks: Vec<f64> = (0..=days / step)
        .map(|k| (i64::from(first) + k * step) as f64)
        .collect();

    let mut chart = ChartBuilder::on(area)
        .margin(MARGIN)
        .margin_right(MARGIN + right)
        .x_label_area_size(x_area)
        .y_label_area_size(y_area + caption_room(&options.y_caption))
        .build_cartesian_2d(Axis::new(x0..x1, x_ticks), Axis::new(lo..hi, y_ticks))?;
    let mut mesh = chart.configure_mesh();
    mesh.disable_x_mesh()
        .bold_line_style(GRID)
        .label_style(label_font())
        .axis_desc_style(label_font())
        .x_label_formatter(&date_label)
        .y_label_formatter(y_fmt);
    captions(&mut mesh, options);
    mesh.draw()?;
    Ok(chart)
}

/// A series as lines through its runs of finite values, with a dot on every value.
fn draw_line(
    chart: &mut TimeChart<'_, '_>,
    points: &[(NaiveDate, Option<f64>)],
    (lo, hi): (f64, f64),
    colour: RGBColor,
) -> DrawResult {
    let mut sorted: Vec<(i32, Option<f64>)> = points
        .iter()
        .map(|(d, v)| {
            (
                d.num_days_from_ce(),
                v.filter(|v| v.is_finite()).map(|v| v.clamp(lo, hi)),
            )
        })
        .collect();
    sorted.sort_by_key(|(d, _)| *d);
    let mut runs: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut run = Vec::new();
    for (d, v) in sorted {
        match v {
            Some(v) => run.push((f64::from(d), v)),
            None if !run.is_empty() => runs.push(std::mem::take(&mut run)),
            None => {}
        }
    }
    runs.push(run);
    chart.draw_series(
        runs.iter()
            .filter(|run| run.len() > 1)
            .map(|run| PathElement::new(run.clone(), colour.stroke_width(2))),
    )?;
    chart.draw_series(
        runs.iter()
            .flatten()
            .map(|p| Circle::new(*p, 3, colour.filled())),
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_inside() {
        assert_eq!(
            ticks(0.0, 100.0, 5, false),
            vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0]
        );
        assert_eq!(ticks(0.0, 3.45, 6, true), vec![0.0, 1.0, 2.0, 3.0]);
        assert_eq!(
            ticks(-100.0, 100.0, 6, false),
            vec![-100.0, -50.0, 0.0, 50.0, 100.0]
        );
        assert_eq!(ticks(5.0, 5.0, 6, false), vec![5.0]);
    }

    #[test]
    fn numbers_are_short() {
        assert_eq!(fmt_num(20.0), "20");
        assert_eq!(fmt_num(-0.0), "0");
        assert_eq!(fmt_num(2.5), "2.5");
        assert_eq!(fmt_num(1.0 / 3.0), "0.33");
        assert_eq!(fmt_num(f64::NAN), "");
    }

    #[test]
    fn persian_reports_get_persian_digits() {
        assert_eq!(Digits::for_language(&Language::fa()), Digits::Persian);
        assert_eq!(
            Digits::for_language(&Language::new("fa-IR")),
            Digits::Persian
        );
        assert_eq!(Digits::for_language(&Language::en()), Digits::Latin);
        assert_eq!(Digits::for_language(&Language::new("fr")), Digits::Latin);
    }

    #[test]
    fn right_to_left_labels_are_isolated() {
        assert_eq!(bidi("۰ تا ۵ دقیقه"), "\u{2067}۰ تا ۵ دقیقه\u{2069}");
        assert_eq!(bidi("NPS (خالص)"), "NPS (خالص)");
        assert_eq!(bidi("۱۲"), "۱۲");
        assert_eq!(bidi("a\u{1}b"), "a\u{FFFD}b");
    }

    #[test]
    fn heat_scale_ends_are_the_constants() {
        assert_eq!(heat_colour(0.0), rgb(HEAT_SCALE[0]));
        assert_eq!(heat_colour(1.0), rgb(HEAT_SCALE[2]));
        assert_eq!(heat_colour(0.5), rgb(HEAT_SCALE[1]));
        assert_eq!(heat_colour(f64::NAN), rgb(HEAT_SCALE[0]));
        assert_eq!(unit(f64::MAX, -f64::MAX, f64::MAX), 1.0);
    }

    #[test]
    fn title_is_escaped_and_first() {
        let svg = finish("<svg width=\"1\">\n</svg>\n".to_owned(), "a<b & \"c\"");
        assert_eq!(
            svg,
            "<svg role=\"img\" width=\"1\">\n<title>a&lt;b &amp; &quot;c&quot;</title>\n</svg>\n"
        );
    }
}
