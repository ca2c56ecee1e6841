import { CustomVariableSupport, DataQueryRequest, DataQueryResponse, MetricFindValue } from '@grafana/data';
import { from, Observable } from 'rxjs';
import { map } from 'rxjs/operators';

import type { DataSource } from './datasource';
import { VariableQueryEditor } from './components/VariableQueryEditor';
import { MailtrailVariableQuery, VariableResource } from './types';

const RESOURCES: VariableResource[] = ['instances', 'users', 'domains'];

export function isVariableResource(s: unknown): s is VariableResource {
  return typeof s === 'string' && (RESOURCES as string[]).includes(s);
}

/**
 * Template variables list exporter instances, SASL users or mail domains,
 * straight from the backend's resource endpoints (no query round trip).
 */
export class MailtrailVariableSupport extends CustomVariableSupport<DataSource, MailtrailVariableQuery> {
  editor = VariableQueryEditor;

  constructor(private readonly datasource: DataSource) {
    super();
  }

  query(request: DataQueryRequest<MailtrailVariableQuery>): Observable<DataQueryResponse> {
    const resource = request.targets[0]?.resource;
    if (!isVariableResource(resource)) {
      return from([{ data: [] }]);
    }
    return from(this.datasource.getResourceValues(resource)).pipe(
      map((values): DataQueryResponse => ({ data: values.map((text): MetricFindValue => ({ text, value: text })) }))
    );
  }
}
