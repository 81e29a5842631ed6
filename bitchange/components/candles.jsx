// A candlestick + volume chart on TradingView's lightweight-charts (v5), for Reflex.
// Props: `data` (every candle, replaces the series), `tail` (the last candles, applied as
// live updates), `priceDecimals`, `marks` (dashed price lines: the user's pending triggers,
// `{price, title, side}`). Times are unix seconds (UTC); values are for drawing only.
import { useEffect, useRef } from "react";
import {
  CandlestickSeries,
  ColorType,
  createChart,
  HistogramSeries,
} from "lightweight-charts";

const UP = "#30a46c";
const DOWN = "#e5484d";

function volumeBar(c) {
  return { time: c.time, value: c.volume, color: c.close >= c.open ? UP + "88" : DOWN + "88" };
}

function priceBar(c) {
  return { time: c.time, open: c.open, high: c.high, low: c.low, close: c.close };
}

export function Candles({ data, tail, priceDecimals, marks, id, className, height }) {
  const box = useRef(null);
  const series = useRef(null);
  const lastTime = useRef(0);
  const lines = useRef([]);

  useEffect(() => {
    const chart = createChart(box.current, {
      autoSize: true,
      layout: {
        background: { type: ColorType.Solid, color: "transparent" },
        textColor: "#9ba1a6",
        attributionLogo: true,
      },
      grid: {
        vertLines: { color: "rgba(120, 130, 140, 0.12)" },
        horzLines: { color: "rgba(120, 130, 140, 0.12)" },
      },
      // Room for "60,000.00"-sized labels, so the last-price tag never covers the ticks.
      rightPriceScale: { borderVisible: false, minimumWidth: 84 },
      // A few empty bars on the right: the newest bar and its time label stay clear of the
      // price axis instead of being cut by it.
      timeScale: {
        borderVisible: false, timeVisible: true, secondsVisible: false, rightOffset: 6,
      },
      crosshair: { mode: 0 },
    });
    const candles = chart.addSeries(CandlestickSeries, {
      upColor: UP, downColor: DOWN, wickUpColor: UP, wickDownColor: DOWN, borderVisible: false,
    });
    candles.priceScale().applyOptions({ scaleMargins: { top: 0.08, bottom: 0.25 } });
    const volume = chart.addSeries(HistogramSeries, {
      priceFormat: { type: "volume" }, priceScaleId: "", lastValueVisible: false,
      priceLineVisible: false,
    });
    volume.priceScale().applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
    series.current = { chart, candles, volume };
    return () => {
      series.current = null;
      chart.remove();
    };
  }, []);

  useEffect(() => {
    const s = series.current;
    if (!s) return;
    const decimals = Number(priceDecimals ?? 2);
    // Thousands separators and the market's decimals, as everywhere else on the screen.
    const price = new Intl.NumberFormat("en-US", {
      minimumFractionDigits: decimals, maximumFractionDigits: decimals,
    });
    s.candles.applyOptions({
      priceFormat: {
        type: "custom", minMove: Math.pow(10, -decimals), formatter: (p) => price.format(p),
      },
    });
  }, [priceDecimals]);

  useEffect(() => {
    const s = series.current;
    if (!s) return;
    const rows = Array.from(data ?? []);
    s.candles.setData(rows.map(priceBar));
    s.volume.setData(rows.map(volumeBar));
    lastTime.current = rows.length ? rows[rows.length - 1].time : 0;
    s.chart.timeScale().scrollToRealTime();
  }, [data]);

  useEffect(() => {
    const s = series.current;
    if (!s) return;
    for (const c of Array.from(tail ?? [])) {
      if (c.time < lastTime.current) continue; // already final in `data`
      s.candles.update(priceBar(c));
      s.volume.update(volumeBar(c));
      lastTime.current = c.time;
    }
  }, [tail]);

  useEffect(() => {
    const s = series.current;
    if (!s) return;
    for (const line of lines.current) s.candles.removePriceLine(line);
    lines.current = Array.from(marks ?? []).map((m) => s.candles.createPriceLine({
      price: Number(m.price), title: m.title, color: m.side === "buy" ? UP : DOWN,
      lineWidth: 1, lineStyle: 2, axisLabelVisible: true,
    }));
  }, [marks]);

  return (
    <div
      ref={box}
      id={id}
      className={className}
      style={{ width: "100%", height: height ?? "380px", position: "relative" }}
    />
  );
}
