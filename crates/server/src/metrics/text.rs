//! The Prometheus text exposition format 0.0.4, written as Go's client
//! writes it: families sorted by name, `# HELP` (even when empty, with its
//! trailing space) then `# TYPE`, and floats in Go's shortest `%g` form
//! (`2.56168e+06`, `0.000367019`, `29054`).

/// `Content-Type` of a scrape, as Tile38 sends it.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8; escaping=underscores";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Gauge,
    Counter,
    Summary,
}

impl Kind {
    fn word(self) -> &'static str {
        match self {
            Kind::Gauge => "gauge",
            Kind::Counter => "counter",
            Kind::Summary => "summary",
        }
    }
}

/// One sample line: `<family><suffix>{labels} value`.
pub struct Sample {
    /// `""`, `"_sum"` or `"_count"`.
    pub suffix: &'static str,
    /// In the order printed (Go sorts label names; `quantile` comes last).
    pub labels: Vec<(&'static str, String)>,
    pub value: f64,
}

pub struct Family {
    pub name: &'static str,
    pub help: &'static str,
    pub kind: Kind,
    pub samples: Vec<Sample>,
}

impl Family {
    pub fn new(name: &'static str, help: &'static str, kind: Kind) -> Family {
        Family {
            name,
            help,
            kind,
            samples: Vec::new(),
        }
    }

    /// A family with one unlabelled sample.
    pub fn single(name: &'static str, help: &'static str, kind: Kind, value: f64) -> Family {
        let mut f = Family::new(name, help, kind);
        f.push(Vec::new(), value);
        f
    }

    pub fn push(&mut self, labels: Vec<(&'static str, String)>, value: f64) {
        self.samples.push(Sample {
            suffix: "",
            labels,
            value,
        });
    }
}

/// Go's `strconv.FormatFloat(v, 'g', -1, 64)`, as the Prometheus client
/// prints sample values.
pub fn go_float(v: f64, out: &mut String) {
    use std::fmt::Write;
    if v.is_nan() {
        out.push_str("NaN");
    } else if v.is_infinite() {
        out.push_str(if v > 0.0 { "+Inf" } else { "-Inf" });
    } else if v == 0.0 {
        out.push('0');
    } else {
        let sci = format!("{v:e}");
        let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
        let exp: i32 = exp.parse().unwrap_or(0);
        // Go switches to the exponent form outside [1e-4, 1e6) when it
        // prints the shortest representation.
        if (-4..6).contains(&exp) {
            let _ = write!(out, "{v}");
        } else {
            let sign = if exp < 0 { '-' } else { '+' };
            let _ = write!(out, "{mantissa}e{sign}{:02}", exp.abs());
        }
    }
}

fn escape(out: &mut String, s: &str, quote: bool) {
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '"' if quote => out.push_str("\\\""),
            c => out.push(c),
        }
    }
}

/// The whole exposition, families sorted by name.
pub fn render(mut families: Vec<Family>) -> String {
    families.sort_by(|a, b| a.name.cmp(b.name));
    let mut out = String::with_capacity(4096);
    for f in &families {
        out.push_str("# HELP ");
        out.push_str(f.name);
        out.push(' ');
        escape(&mut out, f.help, false);
        out.push_str("\n# TYPE ");
        out.push_str(f.name);
        out.push(' ');
        out.push_str(f.kind.word());
        out.push('\n');
        for s in &f.samples {
            out.push_str(f.name);
            out.push_str(s.suffix);
            if !s.labels.is_empty() {
                out.push('{');
                for (i, (k, v)) in s.labels.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(k);
                    out.push_str("=\"");
                    escape(&mut out, v, true);
                    out.push('"');
                }
                out.push('}');
            }
            out.push(' ');
            go_float(s.value, &mut out);
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(v: f64) -> String {
        let mut s = String::new();
        go_float(v, &mut s);
        s
    }

    #[test]
    fn floats_as_go_prints_them() {
        // Every value here is copied from a real Tile38 scrape.
        assert_eq!(g(29054.0), "29054");
        assert_eq!(g(421990.0), "421990");
        assert_eq!(g(2561680.0), "2.56168e+06");
        assert_eq!(g(1795774094.0), "1.795774094e+09");
        assert_eq!(g(1795774094.25), "1.79577409425e+09");
        assert_eq!(g(18446744073709551615.0), "1.8446744073709552e+19");
        assert_eq!(g(2.4102e-05), "2.4102e-05");
        assert_eq!(g(0.000367019), "0.000367019");
        assert_eq!(g(7.752099999999999e-05), "7.752099999999999e-05");
        assert_eq!(g(0.000225), "0.000225");
        assert_eq!(g(1e6), "1e+06");
        assert_eq!(g(-1.5e-7), "-1.5e-07");
        assert_eq!(g(0.0), "0");
        assert_eq!(g(1.0), "1");
        assert_eq!(g(f64::NAN), "NaN");
        assert_eq!(g(f64::INFINITY), "+Inf");
    }

    #[test]
    fn families_sorted_help_kept_labels_escaped() {
        let mut b = Family::new("b_metric", "Has \\ help\nlines", Kind::Gauge);
        b.push(vec![("col", "a\"b\\c\nd".into())], 3.0);
        let text = render(vec![b, Family::single("a_metric", "", Kind::Gauge, 7.0)]);
        assert_eq!(
            text,
            "# HELP a_metric \n# TYPE a_metric gauge\na_metric 7\n\
             # HELP b_metric Has \\\\ help\\nlines\n# TYPE b_metric gauge\n\
             b_metric{col=\"a\\\"b\\\\c\\nd\"} 3\n"
        );
    }
}
