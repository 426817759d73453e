import { useEffect, useRef, type ReactNode } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface OutcomePoint {
  readonly startMs: number;
  readonly outcome: string;
  readonly count: number;
}

const COLOURS: Record<string, string> = {
  APPROVE: '#1a7f37',
  DECLINE: '#b42318',
  REVIEW: '#b54708',
  HOLD: '#6941c6',
  COOLDOWN: '#0e7490',
  CHALLENGE: '#9f1239',
};

/** Decisions per minute by outcome over the window, one line per outcome (uPlot: small and fast). */
const MINUTE_MS = 60_000;

/** Every minute of the window, so quiet minutes show as zero instead of the axis stretching over the gaps. */
function minutesOf(fromMs: number, toMs: number): number[] {
  const first = Math.floor(fromMs / MINUTE_MS) * MINUTE_MS;
  const out: number[] = [];
  for (let m = first; m <= toMs; m += MINUTE_MS) out.push(m);
  return out;
}

/** Hours and minutes in the reader's language: uPlot's own axis dates are English ("2:40am"). */
function clockTimes(locale: string): (self: uPlot, splits: number[]) => string[] {
  const format = new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit' });
  return (_self, splits) => splits.map((seconds) => format.format(seconds * 1000));
}

export function OutcomeChart(props: {
  points: readonly OutcomePoint[];
  fromMs: number;
  toMs: number;
  label: string;
  /** The axes' words and the time format, in the console's language. */
  axes: { readonly time: string; readonly perMinute: string; readonly locale: string };
}): ReactNode {
  const { points, fromMs, toMs, label } = props;
  const { time, perMinute, locale } = props.axes;
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = host.current;
    if (!element) return undefined;
    const minutes = minutesOf(fromMs, toMs);
    const outcomes = [...new Set(points.map((p) => p.outcome))].sort();
    const series = outcomes.map((outcome) =>
      minutes.map((m) => points.find((p) => p.startMs === m && p.outcome === outcome)?.count ?? 0),
    );
    const plot = new uPlot(
      {
        width: Math.max(320, element.clientWidth),
        height: 240,
        title: label,
        scales: { x: { time: true } },
        axes: [
          { label: time, stroke: '#333', values: clockTimes(locale) },
          { label: perMinute, stroke: '#333' },
        ],
        series: [
          {
            label: time,
            value: (_self, seconds) =>
              seconds === null ? '--' : (clockTimes(locale)(_self, [seconds])[0] ?? '--'),
          },
          ...outcomes.map((outcome) => ({ label: outcome, stroke: COLOURS[outcome] ?? '#444', width: 2 })),
        ],
      },
      [minutes.map((m) => m / 1000), ...series],
      element,
    );
    return () => plot.destroy();
  }, [points, fromMs, toMs, label, time, perMinute, locale]);
  return <div ref={host} className="chart" role="img" aria-label={label} />;
}
