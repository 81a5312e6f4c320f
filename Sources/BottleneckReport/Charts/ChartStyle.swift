/// The shared look of every chart: one stylesheet for the whole report instead of colours
/// baked into each `<svg>`, so the report follows the reader's light or dark setting and
/// prints in black on white.
///
/// Charts draw text and axes in `currentColor`, and series in CSS variables holding the
/// Okabe–Ito palette, which stays distinguishable for the common forms of colour blindness.
/// Each SVG also carries plain `stroke`/`fill` attributes as a fallback, so a chart opened
/// on its own without this stylesheet is still legible (CSS rules override them).
public enum ChartStyle: Sendable {
    /// Okabe–Ito colours in the order series receive them (slots 0–7), then slot 8, a neutral
    /// grey meant for "unknown" / "other" that automatic styling never hands out.
    /// Yellow comes last: it is nearly invisible on white.
    public static let palette: [String] = [
        "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442", "#8C8C8C",
    ]

    /// Number of slots automatic styling cycles through (the grey slot is opt-in).
    static let automaticSlots = 8

    /// The stylesheet to inline once in a `<style>` element of the report.
    public static let css: String = """
        :root { color-scheme: light dark; }
        .bn-chart {
          --bn-c0: #0072B2; --bn-c1: #D55E00; --bn-c2: #009E73; --bn-c3: #CC79A7;
          --bn-c4: #E69F00; --bn-c5: #56B4E9; --bn-c6: #000000; --bn-c7: #F0E442; --bn-c8: #8C8C8C;
          --bn-gap: Canvas;
          max-width: 100%; height: auto; overflow: visible;
          font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; font-size: 12px;
        }
        @media (prefers-color-scheme: dark) {
          /* Blue stays #0072B2: a lighter blue would merge with sky blue (slot 5). */
          .bn-chart { --bn-c6: #E0E0E0; --bn-c8: #A0A0A0; }
        }
        .bn-chart text { fill: currentColor; stroke: none; }
        .bn-chart .bn-title { font-size: 15px; font-weight: 600; }
        .bn-chart .bn-axis-title { font-size: 12px; }
        .bn-chart .bn-tick { font-size: 11px; fill-opacity: 0.8; font-variant-numeric: tabular-nums; }
        .bn-chart .bn-axis { stroke: currentColor; stroke-width: 1; fill: none; }
        .bn-chart .bn-grid { stroke: currentColor; stroke-opacity: 0.14; stroke-width: 1; fill: none; }
        .bn-chart .bn-grid-minor { stroke: currentColor; stroke-opacity: 0.06; stroke-width: 1; fill: none; }
        .bn-chart .bn-ref { stroke: currentColor; stroke-opacity: 0.8; stroke-width: 1.25; stroke-dasharray: 5 4; fill: none; }
        .bn-chart .bn-ref-slo { stroke-opacity: 1; stroke-width: 1.75; stroke-dasharray: 10 4; }
        .bn-chart .bn-ref-label { font-size: 11px; font-style: italic; }
        .bn-chart .bn-step { stroke: currentColor; stroke-opacity: 0.45; stroke-dasharray: 2 3; fill: none; }
        .bn-chart .bn-step-label { font-size: 10px; fill-opacity: 0.75; }
        .bn-chart .bn-c0 { --bn-series: var(--bn-c0); } .bn-chart .bn-c1 { --bn-series: var(--bn-c1); }
        .bn-chart .bn-c2 { --bn-series: var(--bn-c2); } .bn-chart .bn-c3 { --bn-series: var(--bn-c3); }
        .bn-chart .bn-c4 { --bn-series: var(--bn-c4); } .bn-chart .bn-c5 { --bn-series: var(--bn-c5); }
        .bn-chart .bn-c6 { --bn-series: var(--bn-c6); } .bn-chart .bn-c7 { --bn-series: var(--bn-c7); }
        .bn-chart .bn-c8 { --bn-series: var(--bn-c8); }
        .bn-chart .bn-line { fill: none; stroke: var(--bn-series); stroke-width: 2; stroke-linejoin: round; stroke-linecap: round; }
        .bn-chart .bn-marker { fill: var(--bn-series); stroke: none; }
        .bn-chart .bn-marker-cross { fill: none; stroke: var(--bn-series); stroke-width: 1.75; }
        .bn-chart .bn-marker:hover, .bn-chart .bn-marker-cross:hover { stroke: currentColor; stroke-width: 2; }
        .bn-chart .bn-hit { fill: transparent; stroke: none; pointer-events: all; }
        .bn-chart .bn-hit:hover { fill: var(--bn-series); fill-opacity: 0.5; }
        .bn-chart .bn-bar { fill: var(--bn-series); stroke: var(--bn-gap); stroke-width: 0.75; }
        .bn-chart .bn-bar:hover { fill-opacity: 0.8; }
        .bn-chart .bn-fit { fill: none; stroke: currentColor; stroke-width: 1.5; stroke-dasharray: 8 3 1.5 3; }
        .bn-chart .bn-nodata { font-size: 14px; fill-opacity: 0.7; }
        .bn-chart .bn-legend text { font-size: 11px; }
        @media print {
          .bn-chart { color: #000; --bn-gap: #fff; }
          .bn-chart .bn-hit { display: none; }
          .bn-chart .bn-grid { stroke-opacity: 0.3; }
        }
        """
}
