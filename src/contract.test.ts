// The contract between the Go backend and Grafana's frontend: the frames the
// backend's tests wrote (src/__fixtures__/frames, SDK JSON) must load with
// @grafana/data and read the way Grafana's trace, logs, table and graph
// panels read them. Assertions are on names, types and relationships, so
// fixtures regenerated from new test data still have to pass.
import fs from 'fs';
import path from 'path';
import {
  DataFrame,
  DataFrameJSON,
  DataFrameType,
  DataFrameView,
  dataFrameFromJSON,
  Field,
  FieldCache,
  FieldType,
  isTimeSeriesFrame,
  LogLevel,
  TraceKeyValuePair,
  TraceLog,
  TraceSpanRow,
} from '@grafana/data';

import { typeLogFrames } from './frames';

const FIXTURES = path.join(__dirname, '__fixtures__', 'frames');
const KINDS = ['trace', 'events', 'logins', 'offenders', 'instances', 'stats'] as const;

function load(kind: (typeof KINDS)[number]): DataFrame {
  const json = JSON.parse(fs.readFileSync(path.join(FIXTURES, `${kind}.json`), 'utf8')) as DataFrameJSON;
  return dataFrameFromJSON(json);
}

function field(frame: DataFrame, name: string, type: FieldType): Field {
  const f = frame.fields.find((x) => x.name === name);
  expect({ frame: frame.name, field: name, found: Boolean(f) }).toEqual({
    frame: frame.name,
    field: name,
    found: true,
  });
  expect({ field: name, type: f!.type }).toEqual({ field: name, type });
  return f!;
}

function isKeyValueList(v: unknown): v is TraceKeyValuePair[] {
  return (
    Array.isArray(v) &&
    v.every((kv) => typeof kv === 'object' && kv !== null && typeof kv.key === 'string' && 'value' in kv)
  );
}

describe.each(KINDS)('%s frame', (kind) => {
  it('loads with dataFrameFromJSON, every field as long as the frame, with rows', () => {
    const frame = load(kind);
    expect(frame.length).toBeGreaterThan(0);
    expect(frame.fields.length).toBeGreaterThan(1);
    for (const f of frame.fields) {
      expect({ field: f.name, length: f.values.length }).toEqual({ field: f.name, length: frame.length });
    }
  });
});

describe('trace frame', () => {
  const frame = load('trace');
  const spans = new DataFrameView<TraceSpanRow>(frame).toArray();

  it('is shown in the trace view', () => {
    expect(frame.meta?.preferredVisualisationType).toBe('trace');
    for (const name of ['traceID', 'spanID', 'parentSpanID', 'operationName', 'serviceName']) {
      field(frame, name, FieldType.string);
    }
    for (const name of ['startTime', 'duration']) {
      field(frame, name, FieldType.number);
    }
    for (const name of ['serviceTags', 'tags', 'logs']) {
      field(frame, name, FieldType.other);
    }
  });

  it('reads every field the trace view needs from each span', () => {
    for (const s of spans) {
      expect(s.traceID).toEqual(expect.any(String));
      expect(s.spanID).not.toBe('');
      expect(typeof s.parentSpanID).toBe('string');
      expect(s.operationName).not.toBe('');
      expect(s.serviceName).not.toBe('');
      expect(Number.isFinite(s.startTime)).toBe(true);
      expect(s.startTime).toBeGreaterThan(Date.UTC(2000, 0, 1)); // milliseconds, not seconds
      expect(s.duration).toBeGreaterThanOrEqual(0);
      expect(isKeyValueList(s.serviceTags)).toBe(true);
      expect(isKeyValueList(s.tags)).toBe(true);
      expect(Array.isArray(s.logs)).toBe(true);
      for (const log of s.logs as TraceLog[]) {
        expect(log.timestamp).toBeGreaterThan(Date.UTC(2000, 0, 1));
        expect(isKeyValueList(log.fields)).toBe(true);
      }
    }
  });

  it('is one tree: one trace id, one root message span, every parent present', () => {
    expect(new Set(spans.map((s) => s.traceID)).size).toBe(1);
    const ids = new Set(spans.map((s) => s.spanID));
    expect(ids.size).toBe(spans.length);
    const roots = spans.filter((s) => s.parentSpanID === '');
    expect(roots).toHaveLength(1);
    expect(roots[0].operationName).toMatch(/^message \S+$/);
    for (const s of spans.filter((x) => x.parentSpanID !== '')) {
      expect({ span: s.spanID, parentKnown: ids.has(s.parentSpanID!) }).toEqual({ span: s.spanID, parentKnown: true });
    }
  });

  it('has the receive, queue and delivery children of a message', () => {
    const root = spans.find((s) => s.parentSpanID === '')!;
    const children = spans.filter((s) => s.parentSpanID === root.spanID).map((s) => s.operationName);
    expect(children).toEqual(expect.arrayContaining(['receive', 'queue']));
    expect(children.some((op) => /^delivery \S+/.test(op))).toBe(true);
    // a message span further down hangs under the delivery that handed it over
    for (const s of spans.filter((x) => x !== root && /^message /.test(x.operationName))) {
      const parent = spans.find((p) => p.spanID === s.parentSpanID)!;
      expect(parent.operationName).toMatch(/^delivery /);
    }
  });
});

// How Grafana's logs view finds its columns (public/app/features/logs/
// logsFrame.ts): the data-plane names only in frames typed log-lines;
// otherwise the legacy way, where the level comes from a field named `level`.
function readLogRows(frame: DataFrame) {
  const cache = new FieldCache(frame);
  const named = (name: string, type: FieldType) => {
    const f = cache.getFieldByName(name);
    return f && f.type === type ? f : undefined;
  };
  const dataplane = frame.meta?.type === DataFrameType.LogLines;
  const time = dataplane ? named('timestamp', FieldType.time) : cache.getFirstFieldOfType(FieldType.time);
  const body = dataplane ? named('body', FieldType.string) : cache.getFirstFieldOfType(FieldType.string);
  const severity = dataplane ? named('severity', FieldType.string) : cache.getFieldByName('level');
  const id = cache.getFieldByName('id');
  const attributes = dataplane ? named('attributes', FieldType.other) : undefined;
  if (!time || !body) {
    throw new Error('not a logs frame: no time or no body field');
  }
  return Array.from({ length: frame.length }, (_, i) => ({
    timeEpochMs: time.values[i] as number,
    entry: body.values[i] as string,
    logLevel: severity?.values[i] as LogLevel | undefined,
    uid: id?.values[i] as string | undefined,
    attributes: attributes?.values[i] as Record<string, unknown> | undefined,
  }));
}

describe('events frame', () => {
  // as the datasource hands it to Grafana
  const frame: DataFrame = typeLogFrames({ data: [load('events')] }).data[0];
  const rows = readLogRows(frame);

  it('is a logs frame with the data-plane fields', () => {
    expect(frame.meta?.preferredVisualisationType).toBe('logs');
    expect(frame.meta?.type).toBe(DataFrameType.LogLines);
    field(frame, 'timestamp', FieldType.time);
    field(frame, 'body', FieldType.string);
    field(frame, 'severity', FieldType.string);
    field(frame, 'id', FieldType.string);
    field(frame, 'attributes', FieldType.other);
    field(frame, 'queue_id', FieldType.string);
  });

  it('reads as log rows with a level Grafana knows and a unique id', () => {
    const levels = Object.values(LogLevel) as string[];
    for (const r of rows) {
      expect(r.timeEpochMs).toBeGreaterThan(Date.UTC(2000, 0, 1));
      expect(r.entry).not.toBe('');
      expect(['error', 'warning', 'info']).toContain(r.logLevel);
      expect(levels).toContain(r.logLevel);
      expect(r.uid).toMatch(/^[^:]+:\d+$/); // instance:seq
    }
    expect(new Set(rows.map((r) => r.uid)).size).toBe(rows.length);
  });

  it('carries the event without its raw line as attributes', () => {
    for (const r of rows) {
      expect(r.attributes).toEqual(expect.objectContaining({ kind: expect.any(String) }));
      expect(r.attributes).not.toHaveProperty('raw');
      // the id names the instance whose journal holds this very event
      expect(r.uid!.startsWith(`${r.attributes!.instance}:`)).toBe(true);
    }
  });

  it('links a queue id to the trace query', () => {
    const queueId = field(frame, 'queue_id', FieldType.string);
    const links = queueId.config.links ?? [];
    expect(links.length).toBeGreaterThan(0);
    const query = links[0].internal?.query as Record<string, unknown> | undefined;
    expect(query).toEqual(
      expect.objectContaining({ queryType: 'trace', queueId: expect.stringContaining('${__value.raw}') })
    );
    expect(links[0].internal?.datasourceUid).toEqual(expect.any(String));
  });
});

describe('table frames', () => {
  it('logins has one column per field of a login row', () => {
    const frame = load('logins');
    for (const name of ['user', 'client_ip', 'service', 'outcome']) {
      field(frame, name, FieldType.string);
    }
    field(frame, 'count', FieldType.number);
    field(frame, 'first_seen', FieldType.time);
    field(frame, 'last_seen', FieldType.time);
    field(frame, 'tls', FieldType.boolean);
    const view = new DataFrameView<{ outcome: string; count: number; first_seen: number; last_seen: number }>(frame);
    for (const r of view.toArray()) {
      expect(['success', 'failure']).toContain(r.outcome);
      expect(r.count).toBeGreaterThan(0);
      expect(r.last_seen).toBeGreaterThanOrEqual(r.first_seen);
    }
  });

  it('offenders has one column per Offender field', () => {
    const frame = load('offenders');
    field(frame, 'scope', FieldType.string);
    field(frame, 'key', FieldType.string);
    field(frame, 'count', FieldType.number);
    field(frame, 'peak', FieldType.number);
    field(frame, 'first_seen', FieldType.time);
    field(frame, 'last_seen', FieldType.time);
    field(frame, 'active', FieldType.boolean);
  });

  it('instances names every exporter with its version and journal', () => {
    const frame = load('instances');
    field(frame, 'instance', FieldType.string);
    field(frame, 'version', FieldType.string);
    field(frame, 'journal_events', FieldType.number);
    const names = field(frame, 'instance', FieldType.string).values;
    expect(new Set(names).size).toBe(names.length);
  });
});

describe('stats frame', () => {
  it('is a time series per instance that graphs and alert rules read', () => {
    const frame = load('stats');
    expect(isTimeSeriesFrame(frame)).toBe(true);
    const time = field(frame, 'time', FieldType.time);
    const value = field(frame, 'value', FieldType.number);
    expect(value.labels).toEqual(expect.objectContaining({ instance: expect.any(String) }));
    const t = time.values as number[];
    for (let i = 1; i < t.length; i++) {
      expect(t[i]).toBeGreaterThan(t[i - 1]);
    }
    for (const v of value.values as number[]) {
      expect(Number.isInteger(v) && v >= 0).toBe(true); // counts of events
    }
  });
});
