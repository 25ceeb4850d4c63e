//! The PNG chart: grouped bars (defaults, seed, tuned, grid best) per workload, in M records/s.
//! Drawn offline with plotters' bitmap backend; the font is read from the system (DejaVu Sans or
//! Liberation Sans, Debian's `fonts-dejavu-core` / `fonts-liberation`).

use std::path::Path;

use anyhow::{Result, anyhow};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{FontStyle, register_font};

use crate::report::{Cell, Meta, Row};

const FONTS: [&str; 3] = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/truetype/lato/Lato-Regular.ttf",
];

fn load_font() -> Result<()> {
    let path = FONTS.iter().find(|p| Path::new(p).is_file()).ok_or_else(|| anyhow!("no TrueType font found (looked for {FONTS:?}); apt-get install fonts-dejavu-core"))?;
    let bytes: &'static [u8] = Box::leak(std::fs::read(path)?.into_boxed_slice());
    register_font("sans-serif", FontStyle::Normal, bytes).map_err(|_| anyhow!("{path} is not a usable font"))?;
    Ok(())
}

pub fn draw(path: &Path, rows: &[Row], meta: &Meta) -> Result<()> {
    load_font()?;
    let series: [(&str, RGBColor, fn(&Row) -> &Option<Cell>); 4] = [
        ("Flink defaults", RGBColor(150, 150, 150), |r| &r.defaults),
        ("seed preset", RGBColor(214, 96, 77), |r| &r.seed),
        ("flinkops tune", RGBColor(33, 102, 172), |r| &r.tuned),
        ("grid best", RGBColor(90, 174, 97), |r| &r.grid),
    ];
    let value = |c: &Option<Cell>| c.as_ref().filter(|c| c.error.is_none()).map(|c| c.throughput / 1e6).unwrap_or(0.0);
    let max = rows.iter().flat_map(|r| series.iter().map(move |s| value((s.2)(r)))).fold(0.1_f64, f64::max);
    let root = BitMapBackend::new(path, (1400, 640)).into_drawing_area();
    root.fill(&WHITE)?;
    let n = rows.len();
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("Source throughput, Flink {} on {} shared cores ({})", meta.flink_version, meta.cores, if meta.quick { "quick" } else { "full suite" }),
            ("sans-serif", 26),
        )
        .margin(20)
        .x_label_area_size(50)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..n as f64, 0.0..max * 1.15)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        // plotters puts its x labels on round tick values, not under the groups: the workload
        // names are drawn below (each under the middle of its group).
        .x_label_formatter(&|_| String::new())
        .y_desc("M records/s emitted by the sources")
        .label_style(("sans-serif", 16))
        .axis_desc_style(("sans-serif", 18))
        .draw()?;
    let width = 0.8 / series.len() as f64;
    for (si, (label, color, get)) in series.iter().enumerate() {
        let color = *color;
        chart
            .draw_series(rows.iter().enumerate().map(|(i, r)| {
                let x0 = i as f64 + 0.1 + si as f64 * width;
                Rectangle::new([(x0, 0.0), (x0 + width * 0.92, value(get(r)))], color.filled())
            }))?
            .label(*label)
            .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 14, y + 6)], color.filled()));
    }
    chart.configure_series_labels().background_style(WHITE.mix(0.9)).border_style(BLACK).label_font(("sans-serif", 16)).position(SeriesLabelPosition::UpperRight).draw()?;
    // The workload names, each centred under its group of bars.
    let style = TextStyle::from(("sans-serif", 16).into_font()).pos(Pos::new(HPos::Center, VPos::Top));
    for (i, r) in rows.iter().enumerate() {
        let (px, py) = chart.backend_coord(&(i as f64 + 0.5, 0.0));
        root.draw(&Text::new(r.workload.clone(), (px, py + 10), style.clone()))?;
    }
    root.present()?;
    Ok(())
}
