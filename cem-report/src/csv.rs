//! CSV export (RFC 4180).
//!
//! Records end with CRLF; a field is quoted when it holds a comma, a double quote, a CR or an
//! LF, and a double quote inside a quoted field is doubled. Numbers are written with at most
//! three decimals; a figure without a value (`None`) is an empty field. The first record is
//! the header.

use std::borrow::Cow;

use crate::kpi::Row;
use crate::satisfaction::SatisfactionRow;

/// A row that exports to CSV.
pub trait CsvRow {
    /// The column names.
    fn header() -> Vec<&'static str>;
    /// The fields, one per column.
    fn fields(&self) -> Vec<String>;
}

/// A field as RFC 4180 writes it: quoted when it must be.
pub fn escape(field: &str) -> Cow<'_, str> {
    if field.contains([',', '"', '\r', '\n']) {
        Cow::Owned(format!("\"{}\"", field.replace('"', "\"\"")))
    } else {
        Cow::Borrowed(field)
    }
}

/// Appends one record and its CRLF.
pub fn write_record<S: AsRef<str>>(out: &mut String, fields: impl IntoIterator<Item = S>) {
    for (i, f) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&escape(f.as_ref()));
    }
    out.push_str("\r\n");
}

/// The header and a record per row.
pub fn to_csv<R: CsvRow>(rows: &[R]) -> String {
    let mut out = String::new();
    write_record(&mut out, R::header());
    for r in rows {
        write_record(&mut out, r.fields());
    }
    out
}

/// A number with at most three decimals (`12.5`, `66.667`, `3`).
pub fn number(x: f64) -> String {
    let r = (x * 1000.0).round() / 1000.0;
    // −0 after rounding a small negative reads as 0.
    format!("{}", if r == 0.0 { 0.0 } else { r })
}

fn opt(x: Option<f64>) -> String {
    x.map(number).unwrap_or_default()
}

const ROW_HEADER: [&str; 22] = [
    "group",
    "key",
    "arrived",
    "transferred_in",
    "called",
    "served",
    "no_show",
    "cancelled",
    "transferred_out",
    "wait_mean_secs",
    "wait_median_secs",
    "wait_p90_secs",
    "wait_max_secs",
    "service_time_mean_secs",
    "service_level_pct",
    "busy_secs",
    "open_secs",
    "utilization_pct",
    "appointments",
    "appointments_on_time",
    "punctuality_pct",
    "lateness_mean_secs",
];

impl CsvRow for Row {
    fn header() -> Vec<&'static str> {
        ROW_HEADER.to_vec()
    }

    fn fields(&self) -> Vec<String> {
        vec![
            self.key.kind().to_owned(),
            self.key.to_string(),
            self.arrived.to_string(),
            self.transferred_in.to_string(),
            self.called.to_string(),
            self.served.to_string(),
            self.no_show.to_string(),
            self.cancelled.to_string(),
            self.transferred_out.to_string(),
            opt(self.wait_mean_secs),
            opt(self.wait_median_secs),
            opt(self.wait_p90_secs),
            opt(self.wait_max_secs),
            opt(self.service_time_mean_secs),
            opt(self.service_level_pct),
            number(self.busy_secs),
            number(self.open_secs),
            opt(self.utilization_pct),
            self.appointments.to_string(),
            self.appointments_on_time.to_string(),
            opt(self.punctuality_pct),
            opt(self.lateness_mean_secs),
        ]
    }
}

impl CsvRow for SatisfactionRow {
    fn header() -> Vec<&'static str> {
        let mut h = Row::header();
        h.extend([
            "suppressed",
            "responses",
            "nps",
            "csat",
            "ces_ease",
            "sentiment",
        ]);
        h
    }

    fn fields(&self) -> Vec<String> {
        let mut f = self.kpi.fields();
        f.push(self.suppressed.to_string());
        match &self.satisfaction {
            Some(s) => f.extend([
                s.responses.to_string(),
                opt(s.nps),
                opt(s.csat),
                opt(s.ces_ease),
                opt(s.sentiment),
            ]),
            None => f.extend(std::iter::repeat_n(String::new(), 5)),
        }
        f
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_only_when_they_must_be() {
        assert_eq!(escape("plain"), "plain");
        assert_eq!(escape("a,b"), "\"a,b\"");
        assert_eq!(escape("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(escape("two\nlines"), "\"two\nlines\"");
        assert_eq!(escape("cr\r"), "\"cr\r\"");
        assert_eq!(escape(""), "");
        let mut out = String::new();
        write_record(&mut out, ["x", "y,z", ""]);
        assert_eq!(out, "x,\"y,z\",\r\n");
    }

    #[test]
    fn numbers_keep_three_decimals_at_most() {
        assert_eq!(number(3.0), "3");
        assert_eq!(number(12.5), "12.5");
        assert_eq!(number(200.0 / 3.0), "66.667");
        assert_eq!(number(-0.0001), "0");
    }
}
