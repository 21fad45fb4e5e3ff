/**
 * A small metrics registry and its Prometheus text exposition (format
 * 0.0.4): counters, gauges and histograms with labels, each family with
 * its `# HELP` and `# TYPE` lines. Written here instead of taken from a
 * package: the bot needs a few dozen series, and the format is a page long.
 *
 * @module
 */

/** Label names to values of one series. */
export type Labels = Readonly<Record<string, string>>;

/** The content type of {@link MetricsRegistry.render}'s text. */
export const EXPOSITION_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Escapes a label value: backslash, double quote and line feed (the format's three escapes). */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** Escapes `# HELP` text: backslash and line feed. */
export function escapeHelp(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

/** A sample value as the format writes it (`+Inf`, `-Inf`, `NaN`, or the number). */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** `{a="1",b="2"}` in the order of `names`; empty without labels. */
function labelText(names: readonly string[], values: readonly string[], extra = ""): string {
  const parts = names.map((name, i) => `${name}="${escapeLabelValue(values[i])}"`);
  if (extra) parts.push(extra);
  return parts.length ? `{${parts.join(",")}}` : "";
}

/** What every family has: name, help, type and label names. */
abstract class Family {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  abstract readonly type: "counter" | "gauge" | "histogram";

  constructor(name: string, help: string, labelNames: readonly string[]) {
    if (!NAME.test(name)) throw new Error(`Invalid metric name: ${name}`);
    for (const label of labelNames) {
      if (!LABEL_NAME.test(label) || label === "le") {
        throw new Error(`Invalid label name for ${name}: ${label}`);
      }
    }
    this.name = name;
    this.help = help;
    this.labelNames = labelNames;
  }

  /** The label values in the family's order; a missing label is an empty string. */
  protected values(labels: Labels = {}): string[] {
    for (const key of Object.keys(labels)) {
      if (!this.labelNames.includes(key)) throw new Error(`${this.name} has no label "${key}"`);
    }
    return this.labelNames.map((name) => labels[name] ?? "");
  }

  /** The sample lines (without HELP and TYPE). */
  abstract samples(): string[];

  /** The family's block: HELP, TYPE, samples. */
  render(): string {
    return [
      `# HELP ${this.name} ${escapeHelp(this.help)}`,
      `# TYPE ${this.name} ${this.type}`,
      ...this.samples(),
    ].join("\n");
  }
}

/** One number per label set; `\u0000` cannot occur in label values we write, so it joins keys. */
class Series<T> {
  readonly #map = new Map<string, { values: string[]; data: T }>();

  get(values: string[], make: () => T): T {
    const key = values.join("\u0000");
    let entry = this.#map.get(key);
    if (!entry) this.#map.set(key, entry = { values, data: make() });
    return entry.data;
  }

  peek(values: string[]): T | undefined {
    return this.#map.get(values.join("\u0000"))?.data;
  }

  entries(): { values: string[]; data: T }[] {
    return [...this.#map.values()];
  }

  clear(): void {
    this.#map.clear();
  }
}

/** A value that only goes up (restarts at 0 with the process). */
export class Counter extends Family {
  readonly type = "counter";
  readonly #series = new Series<{ value: number }>();

  /** Adds `by` (default 1; negative amounts are ignored: counters never go down). */
  inc(labels?: Labels, by = 1): void {
    if (!(by >= 0)) return;
    this.#series.get(this.values(labels), () => ({ value: 0 })).value += by;
  }

  /** The current value of one series (tests, health). */
  get(labels?: Labels): number {
    return this.#series.peek(this.values(labels))?.value ?? 0;
  }

  samples(): string[] {
    return this.#series.entries().map(({ values, data }) =>
      `${this.name}${labelText(this.labelNames, values)} ${formatValue(data.value)}`
    );
  }
}

/** A value that goes up and down; set directly or read when scraped. */
export class Gauge extends Family {
  readonly type = "gauge";
  readonly #series = new Series<{ value: number }>();
  readonly #collect?: (gauge: Gauge) => void;

  constructor(
    name: string,
    help: string,
    labelNames: readonly string[] = [],
    collect?: (gauge: Gauge) => void,
  ) {
    super(name, help, labelNames);
    this.#collect = collect;
  }

  /** Sets one series. */
  set(labels: Labels, value: number): void {
    this.#series.get(this.values(labels), () => ({ value: 0 })).value = value;
  }

  /** Forgets every series (a collector that rebuilds them each scrape). */
  reset(): void {
    this.#series.clear();
  }

  samples(): string[] {
    this.#collect?.(this);
    return this.#series.entries().map(({ values, data }) =>
      `${this.name}${labelText(this.labelNames, values)} ${formatValue(data.value)}`
    );
  }
}

/** Default buckets, in seconds: a model answer takes from a fraction of a second to minutes. */
export const LATENCY_BUCKETS: readonly number[] = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

/** Observations counted into cumulative buckets, with their sum and count. */
export class Histogram extends Family {
  readonly type = "histogram";
  readonly buckets: readonly number[];
  readonly #series = new Series<{ counts: number[]; sum: number; count: number }>();

  constructor(
    name: string,
    help: string,
    labelNames: readonly string[] = [],
    buckets: readonly number[] = LATENCY_BUCKETS,
  ) {
    super(name, help, labelNames);
    const sorted = [...new Set(buckets)].filter(Number.isFinite).sort((a, b) => a - b);
    this.buckets = sorted;
  }

  /** Records one observation. */
  observe(labels: Labels, value: number): void {
    if (Number.isNaN(value)) return;
    const data = this.#series.get(
      this.values(labels),
      () => ({ counts: this.buckets.map(() => 0), sum: 0, count: 0 }),
    );
    // Each bucket counts observations ≤ its bound; cumulative as the format wants.
    this.buckets.forEach((bound, i) => {
      if (value <= bound) data.counts[i]++;
    });
    data.sum += value;
    data.count++;
  }

  samples(): string[] {
    const lines: string[] = [];
    for (const { values, data } of this.#series.entries()) {
      this.buckets.forEach((bound, i) => {
        const le = `le="${formatValue(bound)}"`;
        lines.push(
          `${this.name}_bucket${labelText(this.labelNames, values, le)} ${data.counts[i]}`,
        );
      });
      lines.push(
        `${this.name}_bucket${labelText(this.labelNames, values, 'le="+Inf"')} ${data.count}`,
      );
      lines.push(`${this.name}_sum${labelText(this.labelNames, values)} ${formatValue(data.sum)}`);
      lines.push(`${this.name}_count${labelText(this.labelNames, values)} ${data.count}`);
    }
    return lines;
  }
}

/** The families of one process, rendered in registration order. */
export class MetricsRegistry {
  readonly #families = new Map<string, Family>();

  /** Registers a family; a second family of the same name is a programming error. */
  register<F extends Family>(family: F): F {
    if (this.#families.has(family.name)) throw new Error(`Metric registered twice: ${family.name}`);
    this.#families.set(family.name, family);
    return family;
  }

  /** A new counter. */
  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return this.register(new Counter(name, help, labelNames));
  }

  /** A new gauge; `collect` sets its series just before each scrape. */
  gauge(
    name: string,
    help: string,
    labelNames: readonly string[] = [],
    collect?: (gauge: Gauge) => void,
  ): Gauge {
    return this.register(new Gauge(name, help, labelNames, collect));
  }

  /** A new histogram. */
  histogram(
    name: string,
    help: string,
    labelNames: readonly string[] = [],
    buckets?: readonly number[],
  ): Histogram {
    return this.register(new Histogram(name, help, labelNames, buckets));
  }

  /**
   * The exposition text. A collector that throws leaves its family without
   * samples instead of failing the scrape.
   */
  render(): string {
    const blocks: string[] = [];
    for (const family of this.#families.values()) {
      try {
        blocks.push(family.render());
      } catch {
        blocks.push(
          `# HELP ${family.name} ${escapeHelp(family.help)}\n# TYPE ${family.name} ${family.type}`,
        );
      }
    }
    return blocks.join("\n") + "\n";
  }
}
