import { CoreApp, DataQueryRequest, DataQueryResponse, DataSourceInstanceSettings, ScopedVars } from '@grafana/data';
import { DataSourceWithBackend, getTemplateSrv } from '@grafana/runtime';
import { Observable } from 'rxjs';
import { map } from 'rxjs/operators';

import { typeLogFrames } from './frames';
import { DEFAULT_QUERY, MailtrailOptions, MailtrailQuery, STRING_FIELDS, StringField, VariableResource } from './types';
import { MailtrailVariableSupport } from './variables';

/**
 * The frontend half of the datasource: queries run in the Go backend
 * (pkg/datasource), which fans them out to the exporters. Here we only shape
 * the query: defaults, template variables, and dropping queries that cannot
 * return anything.
 */
export class DataSource extends DataSourceWithBackend<MailtrailQuery, MailtrailOptions> {
  constructor(instanceSettings: DataSourceInstanceSettings<MailtrailOptions>) {
    super(instanceSettings);
    this.variables = new MailtrailVariableSupport(this);
  }

  query(request: DataQueryRequest<MailtrailQuery>): Observable<DataQueryResponse> {
    return super.query(request).pipe(map(typeLogFrames));
  }

  getDefaultQuery(_app: CoreApp): Partial<MailtrailQuery> {
    return DEFAULT_QUERY;
  }

  /**
   * A trace query without a queue id or message id has nothing to trace;
   * sending it would only produce an error panel while someone is still
   * typing. Hidden queries are not run either.
   */
  filterQuery(query: MailtrailQuery): boolean {
    if (query.hide) {
      return false;
    }
    if (query.queryType === 'trace') {
      return !isBlank(query.queueId) || !isBlank(query.messageId);
    }
    return true;
  }

  applyTemplateVariables(query: MailtrailQuery, scopedVars: ScopedVars): MailtrailQuery {
    const templateSrv = getTemplateSrv();
    const out: MailtrailQuery = { ...query };
    for (const field of STRING_FIELDS) {
      const value = query[field];
      if (typeof value === 'string' && value !== '') {
        // kind is a comma list, so a multi-value variable joins with commas;
        // every other field takes one value and gets Grafana's default format.
        const format = field === 'kind' ? 'csv' : undefined;
        setStringField(out, field, templateSrv.replace(value, scopedVars, format));
      }
    }
    return out;
  }

  interpolateVariablesInQueries(queries: MailtrailQuery[], scopedVars: ScopedVars): MailtrailQuery[] {
    return queries.map((q) => ({ ...this.applyTemplateVariables(q, scopedVars), datasource: this.getRef() }));
  }

  /** Distinct values for editors and variables from the backend's resource endpoints. */
  async getResourceValues(resource: VariableResource): Promise<string[]> {
    const values: unknown = await this.getResource(resource);
    if (!Array.isArray(values)) {
      return [];
    }
    return values.filter((v): v is string => typeof v === 'string');
  }
}

function isBlank(s: string | undefined): boolean {
  return s === undefined || s.trim() === '';
}

function setStringField(q: MailtrailQuery, field: StringField, value: string) {
  // outcome is a union of literals; template variables may hold any text and
  // the backend validates it, so the cast only widens what we send.
  (q as Record<StringField, string>)[field] = value;
}
