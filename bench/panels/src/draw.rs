//! Drawing the panels into a PNG: one chart per panel, stacked, on a shared time axis (seconds
//! since the run's first sample), with the run's marks (faults, switchover) as vertical lines.

use crate::prometheus::Series;
use anyhow::{anyhow, Result};
use plotters::prelude::*;
use std::path::Path;

/// One chart: a title, a y-axis description and its series.
pub struct Panel {
    /// Shown above the chart.
    pub title: String,
    /// The y axis's description.
    pub y_label: String,
    /// The lines.
    pub series: Vec<Series>,
    /// Where the legend goes (where the lines leave room).
    pub legend: SeriesLabelPosition,
}

/// A labelled moment of the run (unix seconds).
#[derive(Debug, Clone, PartialEq)]
pub struct Mark {
    /// What happened (`kill -9 valkey/0`).
    pub label: String,
    /// When.
    pub at: f64,
}

const COLOURS: [RGBColor; 5] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(255, 127, 14),
];

/// Draws `panels` over `span` (unix seconds, points `step` seconds apart) into `out` (PNG,
/// `width` × 300 px per panel).
pub fn draw(
    out: &Path,
    width: u32,
    span: (f64, f64),
    step: f64,
    panels: &[Panel],
    marks: &[Mark],
) -> Result<()> {
    let height = 300 * panels.len() as u32;
    let root = BitMapBackend::new(out, (width, height)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| anyhow!("{e}"))?;
    let areas = root.split_evenly((panels.len(), 1));
    let end = span.1 - span.0;
    for (panel, area) in panels.iter().zip(areas) {
        let top =
            panel.series.iter().flat_map(|s| s.points.iter().map(|p| p.1)).fold(1.0_f64, f64::max) * 1.15;
        let mut chart = ChartBuilder::on(&area)
            .caption(&panel.title, ("sans-serif", 20))
            .margin(10)
            .x_label_area_size(35)
            .y_label_area_size(55)
            .build_cartesian_2d(0.0..end, 0.0..top)
            .map_err(|e| anyhow!("{e}"))?;
        chart
            .configure_mesh()
            .x_desc("seconds since the run's first sample")
            .y_desc(&panel.y_label)
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(|e| anyhow!("{e}"))?;
        for (i, mark) in marks.iter().enumerate() {
            let x = mark.at - span.0;
            let line = LineSeries::new([(x, 0.0), (x, top)], BLACK.mix(0.4).stroke_width(1));
            chart.draw_series(line).map_err(|e| anyhow!("{e}"))?;
            // Staggered, so marks close in time stay readable.
            let y = top * (0.97 - 0.08 * (i % 3) as f64);
            let text = Text::new(mark.label.clone(), (x + end * 0.004, y), ("sans-serif", 13));
            chart.draw_series(std::iter::once(text)).map_err(|e| anyhow!("{e}"))?;
        }
        for (i, s) in panel.series.iter().enumerate() {
            let colour = COLOURS[i % COLOURS.len()];
            let mut first = true;
            // A missing sample (the target down, or not scraped) is a gap, not a straight line.
            for segment in segments(&s.points, step) {
                let points = segment.iter().map(|(t, v)| (t - span.0, *v));
                let drawn = chart
                    .draw_series(LineSeries::new(points, colour.stroke_width(2)))
                    .map_err(|e| anyhow!("{e}"))?;
                if std::mem::take(&mut first) {
                    drawn.label(s.label.clone()).legend(move |(x, y)| {
                        PathElement::new([(x, y), (x + 18, y)], colour.stroke_width(2))
                    });
                }
            }
        }
        chart
            .configure_series_labels()
            .position(panel.legend.clone())
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK.mix(0.3))
            .draw()
            .map_err(|e| anyhow!("{e}"))?;
    }
    root.present().map_err(|e| anyhow!("{e}"))?;
    Ok(())
}

/// The runs of `points` without a gap longer than one and a half `step`s.
pub fn segments(points: &[(f64, f64)], step: f64) -> Vec<&[(f64, f64)]> {
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..=points.len() {
        if i == points.len() || points[i].0 - points[i - 1].0 > step * 1.5 {
            out.push(&points[start..i]);
            start = i;
        }
    }
    out.retain(|s| !s.is_empty());
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_missing_sample_splits_the_line() {
        let points = [(0.0, 1.0), (2.0, 1.0), (8.0, 0.0), (10.0, 0.0)];
        let parts = super::segments(&points, 2.0);
        assert_eq!(parts, [&points[..2], &points[2..]]);
        assert!(super::segments(&[], 2.0).is_empty());
    }
}
