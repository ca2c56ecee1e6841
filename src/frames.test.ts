import { DataFrameType, FieldType, createDataFrame } from '@grafana/data';

import { typeLogFrames } from './frames';

const logs = () =>
  createDataFrame({
    meta: { preferredVisualisationType: 'logs' },
    fields: [
      { name: 'timestamp', type: FieldType.time, values: [1] },
      { name: 'body', type: FieldType.string, values: ['x'] },
    ],
  });
const table = () => createDataFrame({ fields: [{ name: 'user', type: FieldType.string, values: ['a'] }] });

describe('typeLogFrames', () => {
  it('types untyped logs frames as log-lines so Grafana reads severity, id and attributes', () => {
    const res = typeLogFrames({ data: [logs(), table()] });
    expect(res.data[0].meta).toEqual({
      preferredVisualisationType: 'logs',
      type: DataFrameType.LogLines,
      typeVersion: [0, 0],
    });
    expect(res.data[1].meta).toBeUndefined();
    expect(res.data[0].fields.map((f: { name: string }) => f.name)).toEqual(['timestamp', 'body']);
  });

  it('leaves frames that already say their type, and responses without logs, as they are', () => {
    const typed = logs();
    typed.meta = { ...typed.meta, type: DataFrameType.LogLines, typeVersion: [0, 1] };
    const res = { data: [typed], error: undefined };
    expect(typeLogFrames(res)).toBe(res);
    const tables = { data: [table()] };
    expect(typeLogFrames(tables)).toBe(tables);
  });
});
