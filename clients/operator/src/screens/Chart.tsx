// One interactive chart (uPlot: canvas, about 20 KB gzipped, fast with a year of 15-minute buckets):
// hover shows every series' value at that moment, drag across to zoom (double-click: back), the
// checkboxes toggle series (keyboard), the comparison period dashed over the current one. The data
// is also a table for screen readers and the keyboard, drawn when opened; PNG export of the canvas.
import { useEffect, useRef, useState } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { t } from "../i18n";

export interface ChartProps {
  id: string;
  title: string;
  unit: "calls" | "share" | "seconds";
  x: number[];
  names: string[];
  current: Array<Array<number | null>>;
  past: Array<Array<number | null>>;
  hidden: string[];
  toggle: (name: string) => void;
  drawn: () => void;
}

const COLOURS = ["#2463eb", "#16a34a", "#dc2626", "#9333ea", "#ea580c"];
const WHOLE = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000, 100_000];
const colour = (i: number): string => COLOURS[i % COLOURS.length] ?? "#1c2430";

const format = (unit: ChartProps["unit"], value: number | null) =>
  value === null ? "—" : unit === "share" ? `${(value * 100).toFixed(1)}%` : unit === "seconds" ? `${value.toFixed(0)} s` : value.toFixed(0);

export default function Chart(props: ChartProps) {
  const { id, title, unit, x, names, current, past, hidden } = props;
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const [table, setTable] = useState(false);
  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const series: uPlot.Series[] = [{ label: t("time") }];
    names.forEach((name, i) => series.push({ label: t(`kpi.${name}`), stroke: colour(i), width: 2, show: !hidden.includes(name), value: (_, v) => format(unit, v) }));
    if (past.length > 0) {
      names.forEach((name, i) =>
        series.push({ label: `${t(`kpi.${name}`)} (${t("pastPeriod")})`, stroke: colour(i), width: 1, dash: [6, 4], show: !hidden.includes(name), value: (_, v) => format(unit, v) }),
      );
    }
    const options: uPlot.Options = {
      width: Math.max(320, element.clientWidth), height: 240, series,
      scales: { x: { time: true } },
      axes: [{}, { values: (_, ticks) => ticks.map((v) => format(unit, v)), size: 64, ...(unit === "share" ? {} : { incrs: WHOLE }) }],
      cursor: { drag: { x: true, y: false } },
      legend: { live: true },
    };
    const made = new uPlot(options, [x, ...current, ...past] as uPlot.AlignedData, element);
    plot.current = made;
    const resize = new ResizeObserver(() => made.setSize({ width: Math.max(320, element.clientWidth), height: 240 }));
    resize.observe(element);
    props.drawn();
    return () => {
      resize.disconnect();
      made.destroy();
      plot.current = null;
    };
  }, [x, current, past]);
  useEffect(() => {
    const made = plot.current;
    if (!made) return;
    names.forEach((name, i) => {
      const show = !hidden.includes(name);
      made.setSeries(i + 1, { show });
      if (past.length > 0) made.setSeries(i + 1 + names.length, { show });
    });
  }, [hidden.join(",")]);

  const png = () => {
    const made = plot.current;
    if (!made) return;
    const source = made.ctx.canvas;
    const out = document.createElement("canvas");
    [out.width, out.height] = [source.width, source.height + 40];
    const draw = out.getContext("2d")!;
    draw.fillStyle = "#fff";
    draw.fillRect(0, 0, out.width, out.height);
    draw.fillStyle = "#1c2430";
    draw.font = "bold 20px sans-serif";
    draw.fillText(title, 12, 28);
    draw.drawImage(source, 0, 40);
    out.toBlob((blob) => {
      if (!blob) return;
      const link = document.createElement("a");
      link.href = URL.createObjectURL(blob);
      link.download = `${id}.png`;
      link.click();
      setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
    }, "image/png");
  };

  return (
    <figure class="chart" data-chart={id} aria-labelledby={`chart-${id}`}>
      <figcaption id={`chart-${id}`}>
        <strong>{title}</strong>
        <span class="series" role="group" aria-label={`${title}: ${t("series")}`}>
          {names.map((name) => (
            <label class="inline">
              <input type="checkbox" checked={!hidden.includes(name)} onChange={() => props.toggle(name)} /> {t(`kpi.${name}`)}
            </label>
          ))}
        </span>
        <button type="button" onClick={png}>PNG</button>
      </figcaption>
      <div ref={box} role="img" aria-label={`${title}: ${t("chartHelp")}`} />
      <details onToggle={(e) => setTable((e.currentTarget as HTMLDetailsElement).open)}>
        <summary>{t("asTable")}</summary>
        {table && (
          <table>
            <thead>
              <tr>
                <th>{t("time")}</th>
                {names.map((n) => <th>{t(`kpi.${n}`)}</th>)}
                {past.length > 0 && names.map((n) => <th>{t(`kpi.${n}`)} ({t("pastPeriod")})</th>)}
              </tr>
            </thead>
            <tbody>
              {x.map((at, i) => (
                <tr>
                  <td>{new Date(at * 1000).toLocaleString()}</td>
                  {[...current, ...past].map((values) => <td>{format(unit, values[i] ?? null)}</td>)}
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </details>
    </figure>
  );
}
