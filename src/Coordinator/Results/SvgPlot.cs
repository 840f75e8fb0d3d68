using System.Globalization;
using System.Net;
using System.Text;

namespace Orchestrator.Coordinator.Results;

/// <summary>
/// The plots of a sweep report, as inline SVG (no script, no external file, so report.html opens anywhere): lines
/// over a numeric x (learning curves), dots with whiskers over categories (a metric by parameter value), and a
/// heatmap over two parameters.
/// </summary>
public static class SvgPlot
{
    /// <param name="Label">Its legend entry (series of one label share it).</param>
    /// <param name="Title">What hovering over it says (which trial it is); default its label.</param>
    public sealed record Series(string Label, IReadOnlyList<(double X, double Y)> Points, string Color, bool Dashed = false, double Width = 2, string? Title = null);

    /// <summary>
    /// One dot: the category it belongs to, its value (a mean), its whisker (± spread), whether to draw it bold, and the
    /// values it is the mean of (each seed's, drawn small beside it).
    /// </summary>
    public sealed record Dot(int Category, double Value, double Spread, bool Highlighted, string Title, IReadOnlyList<double>? Seeds = null);

    /// <summary>Where a plotted quantity can lie: an axis is never padded beyond it (an accuracy axis stops at 1).</summary>
    public static readonly (double Min, double Max) Fraction = (0, 1);

    const int Width = 700, Height = 300, Left = 60, Right = 210, Top = 30, Bottom = 45;
    const double PlotWidth = Width - Left - Right, PlotHeight = Height - Top - Bottom;

    /// <param name="limits">Where the values can lie (<see cref="Fraction"/> for accuracies); null: anywhere.</param>
    public static string Lines(string title, string xLabel, string yLabel, IReadOnlyList<Series> series, (double Min, double Max)? limits = null)
    {
        var points = series.SelectMany(s => s.Points).ToList();
        if (points.Count == 0) return "";
        var x = new Axis(points.Min(p => p.X), points.Max(p => p.X));
        var y = new Axis(points.Min(p => p.Y), points.Max(p => p.Y), limits);
        var svg = Frame(title, xLabel, yLabel, y);
        // Whole-number x (epochs) gets whole-number ticks: no "1.5" epoch.
        bool whole = points.All(p => p.X == Math.Round(p.X));
        foreach (double tick in x.Ticks().Where(t => !whole || t == Math.Round(t))) XTick(svg, x.Scale(tick) * PlotWidth + Left, Number(tick));
        for (int i = 0; i < series.Count; i++)
        {
            var s = series[i];
            string path = string.Join(" ", s.Points.Select(p => $"{Px(Left + x.Scale(p.X) * PlotWidth)},{Px(Top + (1 - y.Scale(p.Y)) * PlotHeight)}"));
            svg.Append($"<polyline points=\"{path}\" fill=\"none\" stroke=\"{s.Color}\" stroke-width=\"{Px(s.Width)}\"{(s.Dashed ? " stroke-dasharray=\"6 4\"" : "")}><title>{Escape(s.Title ?? s.Label)}</title></polyline>");
        }
        Legend(svg, series.DistinctBy(s => s.Label).Select(s => (s.Label, s.Color)).ToList());
        return svg.Append("</svg>").ToString();
    }

    public static string Dots(string title, string xLabel, string yLabel, IReadOnlyList<string> categories, IReadOnlyList<Dot> dots, (double Min, double Max)? limits = null)
    {
        if (dots.Count == 0) return "";
        var values = dots.SelectMany(d => (d.Seeds ?? []).Append(d.Value - d.Spread).Append(d.Value + d.Spread)).ToList();
        var y = new Axis(values.Min(), values.Max(), limits);
        var svg = Frame(title, xLabel, yLabel, y);
        double step = PlotWidth / categories.Count;
        for (int c = 0; c < categories.Count; c++) XTick(svg, Left + step * (c + 0.5), categories[c]);
        var placed = new Dictionary<int, int>();
        foreach (var dot in dots.OrderBy(d => d.Highlighted))
        {
            // The dots of one category spread a little sideways, in a fixed pattern, so equal values stay visible.
            int nth = placed[dot.Category] = placed.GetValueOrDefault(dot.Category, -1) + 1;
            double cx = Left + step * (dot.Category + 0.5) + (dot.Highlighted ? 0 : (nth % 5 - 2) * step * 0.06);
            double cy = Top + (1 - y.Scale(dot.Value)) * PlotHeight;
            string color = dot.Highlighted ? "#d62728" : "#1f77b4";
            if (dot.Spread > 0)
                svg.Append($"<line x1=\"{Px(cx)}\" x2=\"{Px(cx)}\" y1=\"{Px(Top + (1 - y.Scale(dot.Value + dot.Spread)) * PlotHeight)}\" " +
                           $"y2=\"{Px(Top + (1 - y.Scale(dot.Value - dot.Spread)) * PlotHeight)}\" stroke=\"{color}\" stroke-opacity=\"0.6\"/>");
            foreach (double seed in dot.Seeds ?? []) // each seed's value, a hollow ring beside its mean
                svg.Append($"<circle cx=\"{Px(cx + step * 0.025)}\" cy=\"{Px(Top + (1 - y.Scale(seed)) * PlotHeight)}\" r=\"2\" fill=\"none\" stroke=\"{color}\" stroke-opacity=\"0.8\"/>");
            svg.Append($"<circle cx=\"{Px(cx)}\" cy=\"{Px(cy)}\" r=\"{(dot.Highlighted ? 6 : 4)}\" fill=\"{color}\" fill-opacity=\"{(dot.Highlighted ? "1" : "0.6")}\"><title>{Escape(dot.Title)}</title></circle>");
        }
        Legend(svg, [("best point (mean)", "#d62728"), ("other points (mean)", "#1f77b4"), ("rings: each seed", "#999999")]);
        return svg.Append("</svg>").ToString();
    }

    /// <summary>A grid of cells, one per (x, y) value pair, shaded by value (darker is better) and labelled with it (by <paramref name="format"/>); empty where no value.</summary>
    public static string Heatmap(string title, string xLabel, string yLabel, IReadOnlyList<string> xs, IReadOnlyList<string> ys, double?[,] cells, bool higherIsBetter,
        Func<double, string> format)
    {
        var values = cells.Cast<double?>().Where(v => v is not null).Select(v => v!.Value).ToList();
        if (values.Count == 0) return "";
        double low = values.Min(), high = values.Max();
        // Sized to the labels (about 6.5 px a character at 11 px): long values such as "[ce, hinton, triplet]" stay apart.
        const double cellHeight = 26, top = 30;
        double cellWidth = Math.Max(70, xs.Max(x => x.Length) * 6.5 + 10), left = Math.Max(60, ys.Max(y => y.Length) * 6.5 + 30);
        double width = Math.Max(left + cellWidth * xs.Count + 20, left + title.Length * 7.5), height = top + cellHeight * ys.Count + 45;
        var svg = new StringBuilder($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Px(width)}\" height=\"{Px(height)}\" font-family=\"sans-serif\" font-size=\"11\">");
        svg.Append($"<text x=\"{left}\" y=\"18\" font-size=\"13\" font-weight=\"bold\">{Escape(title)}</text>");
        for (int yi = 0; yi < ys.Count; yi++)
        {
            double cy = top + yi * cellHeight;
            svg.Append($"<text x=\"{left - 6}\" y=\"{Px(cy + cellHeight / 2 + 4)}\" text-anchor=\"end\">{Escape(ys[yi])}</text>");
            for (int xi = 0; xi < xs.Count; xi++)
            {
                if (cells[xi, yi] is not { } value) continue;
                double goodness = high > low ? (value - low) / (high - low) : 1;
                if (!higherIsBetter) goodness = 1 - goodness;
                svg.Append($"<rect x=\"{Px(left + xi * cellWidth)}\" y=\"{Px(cy)}\" width=\"{cellWidth - 2}\" height=\"{cellHeight - 2}\" fill=\"#1f77b4\" fill-opacity=\"{(0.1 + 0.8 * goodness).ToString("0.##", CultureInfo.InvariantCulture)}\"/>");
                svg.Append($"<text x=\"{Px(left + xi * cellWidth + cellWidth / 2)}\" y=\"{Px(cy + cellHeight / 2 + 4)}\" text-anchor=\"middle\">{Escape(format(value))}</text>");
            }
        }
        for (int xi = 0; xi < xs.Count; xi++)
            svg.Append($"<text x=\"{Px(left + xi * cellWidth + cellWidth / 2)}\" y=\"{Px(top + ys.Count * cellHeight + 14)}\" text-anchor=\"middle\">{Escape(xs[xi])}</text>");
        svg.Append($"<text x=\"{Px(left + cellWidth * xs.Count / 2)}\" y=\"{Px(height - 8)}\" text-anchor=\"middle\">{Escape(xLabel)}</text>");
        svg.Append($"<text transform=\"translate(14 {Px(top + cellHeight * ys.Count / 2)}) rotate(-90)\" text-anchor=\"middle\">{Escape(yLabel)}</text>");
        return svg.Append("</svg>").ToString();
    }

    static StringBuilder Frame(string title, string xLabel, string yLabel, Axis y)
    {
        var svg = new StringBuilder($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" viewBox=\"0 0 {Width} {Height}\" font-family=\"sans-serif\" font-size=\"11\">");
        svg.Append($"<text x=\"{Left}\" y=\"18\" font-size=\"13\" font-weight=\"bold\">{Escape(title)}</text>");
        svg.Append($"<rect x=\"{Left}\" y=\"{Top}\" width=\"{PlotWidth}\" height=\"{PlotHeight}\" fill=\"none\" stroke=\"#999\"/>");
        foreach (double tick in y.Ticks())
        {
            double py = Top + (1 - y.Scale(tick)) * PlotHeight;
            svg.Append($"<line x1=\"{Left}\" x2=\"{Left + PlotWidth}\" y1=\"{Px(py)}\" y2=\"{Px(py)}\" stroke=\"#eee\"/>");
            svg.Append($"<text x=\"{Left - 6}\" y=\"{Px(py + 4)}\" text-anchor=\"end\">{Number(tick)}</text>");
        }
        svg.Append($"<text x=\"{Left + PlotWidth / 2}\" y=\"{Height - 8}\" text-anchor=\"middle\">{Escape(xLabel)}</text>");
        svg.Append($"<text transform=\"translate(14 {Top + PlotHeight / 2}) rotate(-90)\" text-anchor=\"middle\">{Escape(yLabel)}</text>");
        return svg;
    }

    static void XTick(StringBuilder svg, double x, string label) =>
        svg.Append($"<text x=\"{Px(x)}\" y=\"{Top + PlotHeight + 16}\" text-anchor=\"middle\">{Escape(label)}</text>");

    static void Legend(StringBuilder svg, IReadOnlyList<(string Label, string Color)> entries)
    {
        for (int i = 0; i < entries.Count && i < 12; i++)
        {
            double y = Top + 10 + i * 16;
            svg.Append($"<rect x=\"{Left + PlotWidth + 12}\" y=\"{Px(y - 8)}\" width=\"10\" height=\"10\" fill=\"{entries[i].Color}\"/>");
            svg.Append($"<text x=\"{Left + PlotWidth + 26}\" y=\"{Px(y + 1)}\">{Escape(Shorten(entries[i].Label))}</text>");
        }
    }

    static string Shorten(string label) => label.Length <= 30 ? label : label[..29] + "…";

    /// <summary>
    /// A linear axis over [min, max], padded so that a constant series still has a range (but not past its
    /// <c>limits</c>: a constant accuracy of 1 gets an axis that ends at 1), with about five round ticks.
    /// </summary>
    sealed class Axis
    {
        readonly double min, max;

        public Axis(double low, double high, (double Min, double Max)? limits = null)
        {
            double pad = high > low ? (high - low) * 0.05 : Math.Max(Math.Abs(high) * 0.05, 0.01);
            (min, max) = (low - pad, high + pad);
            if (limits is not { } bounds) return;
            if (min < bounds.Min) (min, max) = (bounds.Min, Math.Max(max, bounds.Min + 2 * pad));
            if (max > bounds.Max) (min, max) = (Math.Max(bounds.Min, Math.Min(min, bounds.Max - 2 * pad)), bounds.Max);
        }

        public double Scale(double value) => (value - min) / (max - min);

        public IEnumerable<double> Ticks()
        {
            double raw = (max - min) / 5, magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
            double step = new[] { 1, 2, 5, 10 }.Select(m => m * magnitude).First(s => s >= raw);
            for (double tick = Math.Ceiling(min / step) * step; tick <= max; tick += step) yield return Math.Round(tick / step) * step;
        }
    }

    static string Px(double value) => value.ToString("0.#", CultureInfo.InvariantCulture);

    /// <summary>A tick's label; adding 0.0 turns -0 (a tick computed just below zero) into 0.</summary>
    static string Number(double value) => (value + 0.0).ToString("G4", CultureInfo.InvariantCulture);

    public static string Escape(string text) => WebUtility.HtmlEncode(text);
}
