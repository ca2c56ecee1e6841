import { DataFrame, DataFrameType, DataQueryResponse } from '@grafana/data';

/**
 * Grafana reads the data-plane logs fields (severity as the level, id,
 * attributes) only from frames typed `log-lines`; any other logs frame is
 * parsed the legacy way, where `severity` is ignored and every line shows as
 * level "unknown". The events frames say they are logs; this types the ones
 * that do not say which kind, so their levels and attributes show.
 */
export function typeLogFrames(response: DataQueryResponse): DataQueryResponse {
  if (!Array.isArray(response.data) || !response.data.some(needsLogLinesType)) {
    return response;
  }
  return {
    ...response,
    data: response.data.map((frame: DataFrame) =>
      needsLogLinesType(frame)
        ? {
            ...frame,
            meta: { ...frame.meta, type: DataFrameType.LogLines, typeVersion: frame.meta?.typeVersion ?? [0, 0] },
          }
        : frame
    ),
  };
}

function needsLogLinesType(frame: unknown): frame is DataFrame {
  const f = frame as DataFrame | undefined;
  return f?.meta?.preferredVisualisationType === 'logs' && !f.meta.type;
}
