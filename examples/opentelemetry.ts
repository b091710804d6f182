// Mimic's events as OpenTelemetry metrics and spans (pnpm demo:otel).
//
// No Mimic package depends on OpenTelemetry: core publishes on node:diagnostics_channel (mimic:hit,
// mimic:miss, mimic:set, mimic:error, mimic:stale), and the bridge below subscribes to those channels
// using only @opentelemetry/api. Whatever SDK the application registers receives the data; here it is
// the SDK with in-memory exporters, so nothing leaves the process.
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { metrics, SpanStatusCode, trace } from "@opentelemetry/api";
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader, type HistogramMetricData } from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { Mime, MIMIC_CHANNELS, StateError, type IState, type MimicErrorEvent, type MimicEvent } from "@mimic/core";

// ---- the bridge: diagnostics_channel → OpenTelemetry API ----------------------------------------

/** Subscribes to Mimic's channels; returns a function that unsubscribes. */
function instrumentMimic(): () => void {
  const meter = metrics.getMeter("mimic");
  const tracer = trace.getTracer("mimic");
  const calls = meter.createCounter("mimic.calls", { description: "Memoized calls, by function and outcome (hit, miss, stale)" });
  const errors = meter.createCounter("mimic.errors", { description: "Backend errors, by function and state operation" });
  const duration = meter.createHistogram("mimic.duration", { unit: "ms", description: "Each event's duration, as core measures it (MimicEvent.duration)" });

  const listeners = Object.entries(MIMIC_CHANNELS).map(([outcome, channel]) => {
    const listener = (message: unknown): void => {
      const event = message as MimicEvent;
      const attributes = { "mimic.function": event.functionName, "mimic.state": event.state, "mimic.outcome": outcome };
      if (outcome === "hit" || outcome === "miss" || outcome === "stale") calls.add(1, attributes);
      if (outcome === "error") errors.add(1, { ...attributes, "mimic.operation": (event as MimicErrorEvent).operation });
      duration.record(event.duration, attributes);
      // Events arrive when the work is done, with its duration: the span is back-dated to its start.
      const span = tracer.startSpan(`mimic.${outcome} ${event.functionName}`, {
        startTime: Date.now() - event.duration,
        attributes: { ...attributes, "mimic.key": event.key },
      });
      if (outcome === "error") span.setStatus({ code: SpanStatusCode.ERROR, message: (event as MimicErrorEvent).error.message });
      span.end();
    };
    subscribe(channel, listener);
    return () => unsubscribe(channel, listener);
  });
  return () => listeners.forEach((stop) => stop());
}

// ---- the SDK, with in-memory exporters ----------------------------------------------------------

const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
const meterProvider = new MeterProvider({
  readers: [new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 60_000 })],
});
const spanExporter = new InMemorySpanExporter();
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spanExporter)] });
metrics.setGlobalMeterProvider(meterProvider);
trace.setGlobalTracerProvider(tracerProvider);

const stopInstrumenting = instrumentMimic();

// ---- a small memoized workload ------------------------------------------------------------------

const square = Mime({ ttl: 60 })(function square(n: number): number {
  return n * n;
});
const findUser = Mime({ ttl: 0.05 })(async function findUser(id: number): Promise<{ id: number }> {
  await new Promise((resolve) => setTimeout(resolve, 5));
  return { id };
});
// A backend that is down: Mimic fails open (the function runs) and reports mimic:error.
const down = (): Promise<never> => Promise.reject(new StateError("backend is down"));
const downState: IState = { get: down, set: down, delete: down, clear: down };
const report = Mime({ state: downState, onError: () => undefined })(async function report(day: string): Promise<string> {
  return `report for ${day}`;
});

for (let round = 0; round < 3; round++) for (const n of [1, 2, 3, 4]) square(n); // 4 misses, 8 hits
await findUser(1);
await findUser(1);
await findUser(2);
await new Promise((resolve) => setTimeout(resolve, 80)); // past findUser's ttl
await findUser(1); // a miss again
await report("monday"); // a get and a set error

// ---- what OpenTelemetry collected ---------------------------------------------------------------

await meterProvider.forceFlush();
const collected = metricExporter.getMetrics().at(-1)?.scopeMetrics.flatMap((scope) => scope.metrics) ?? [];
const byName = new Map(collected.map((metric) => [metric.descriptor.name, metric]));

console.log("mimic.calls (counter)");
for (const point of byName.get("mimic.calls")?.dataPoints ?? []) {
  console.log(`  ${point.attributes["mimic.function"]} ${point.attributes["mimic.outcome"]}: ${point.value}`);
}
console.log("mimic.errors (counter)");
for (const point of byName.get("mimic.errors")?.dataPoints ?? []) {
  console.log(`  ${point.attributes["mimic.function"]} ${point.attributes["mimic.operation"]}: ${point.value}`);
}
console.log("mimic.duration (histogram, ms)");
for (const point of (byName.get("mimic.duration") as HistogramMetricData | undefined)?.dataPoints ?? []) {
  const { count, sum, max } = point.value;
  console.log(`  ${point.attributes["mimic.function"]} ${point.attributes["mimic.outcome"]}: count ${count}, mean ${((sum ?? 0) / count).toFixed(3)}, max ${max?.toFixed(3)}`);
}
const spans = spanExporter.getFinishedSpans();
console.log(`spans: ${spans.length}, e.g. ${spans.slice(0, 3).map((span) => span.name).join(", ")}`);
for (const fn of [square, findUser, report]) {
  const { hits, misses, errors } = fn.stats();
  console.log(`${fn.name}.stats() agrees: hits ${hits}, misses ${misses}, errors ${errors}`);
}

stopInstrumenting();
await Promise.all([meterProvider.shutdown(), tracerProvider.shutdown()]);
