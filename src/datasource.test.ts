import { CoreApp, ScopedVars, TypedVariableModel } from '@grafana/data';
import { setTemplateSrv, TemplateSrv } from '@grafana/runtime';
import { firstValueFrom } from 'rxjs';

import { MailtrailQuery, STRING_FIELDS } from './types';
import { newDataSource } from './test/helpers';
import { MailtrailVariableSupport } from './variables';

type TemplateSrvFormat = Parameters<TemplateSrv['replace']>[2];

// A template service with two variables; `kinds` is multi-valued, so the
// format Grafana is asked for decides how it is joined.
class VarsTemplateSrv implements TemplateSrv {
  formats: Array<string | undefined> = [];
  getVariables(): TypedVariableModel[] {
    return [];
  }
  replace(target?: string, scopedVars?: ScopedVars, format?: TemplateSrvFormat): string {
    this.formats.push(typeof format === 'string' ? format : undefined);
    return (target ?? '')
      .replace(/\$user\b/g, String(scopedVars?.user?.value ?? 'alice@example.org'))
      .replace(/\$kinds\b/g, format === 'csv' ? 'reject,auth_failure' : '{reject,auth_failure}');
  }
  containsTemplate(target?: string): boolean {
    return (target ?? '').includes('$');
  }
  updateTimeRange(): void {}
}

describe('DataSource', () => {
  let templateSrv: VarsTemplateSrv;
  beforeEach(() => {
    templateSrv = new VarsTemplateSrv();
    setTemplateSrv(templateSrv);
  });

  it('defaults a new query to recent events so a new panel shows something', () => {
    const ds = newDataSource();
    expect(ds.getDefaultQuery(CoreApp.PanelEditor)).toEqual({ queryType: 'events', limit: 100 });
  });

  it('drops trace queries without a queue id or message id, and hidden queries', () => {
    const ds = newDataSource();
    const q = (p: Partial<MailtrailQuery>): MailtrailQuery => ({ refId: 'A', ...p });
    expect(ds.filterQuery(q({ queryType: 'trace' }))).toBe(false);
    expect(ds.filterQuery(q({ queryType: 'trace', queueId: '  ', messageId: '' }))).toBe(false);
    expect(ds.filterQuery(q({ queryType: 'trace', queueId: '4AA091855DA0' }))).toBe(true);
    expect(ds.filterQuery(q({ queryType: 'trace', messageId: '$msgid' }))).toBe(true);
    expect(ds.filterQuery(q({ queryType: 'events' }))).toBe(true);
    expect(ds.filterQuery(q({}))).toBe(true);
    expect(ds.filterQuery(q({ queryType: 'events', hide: true }))).toBe(false);
  });

  it('applies template variables to every string field and leaves the rest alone', () => {
    const ds = newDataSource();
    const query: MailtrailQuery = { refId: 'B', queryType: 'events', limit: 250 };
    for (const f of STRING_FIELDS) {
      (query as unknown as Record<string, string>)[f] = `${f}=$user`;
    }
    const out = ds.applyTemplateVariables(query, {});
    for (const f of STRING_FIELDS) {
      expect(out[f]).toBe(`${f}=alice@example.org`);
    }
    expect(out.refId).toBe('B');
    expect(out.queryType).toBe('events');
    expect(out.limit).toBe(250);
    // the original query object is not modified
    expect(query.user).toBe('user=$user');
  });

  it('uses scoped variables (repeated panels) and joins multi-value kinds with commas', () => {
    const ds = newDataSource();
    const out = ds.applyTemplateVariables(
      { refId: 'A', queryType: 'stats', kind: '$kinds', saslUsername: '$user' },
      { user: { text: 'bob', value: 'bob@example.org' } }
    );
    expect(out.kind).toBe('reject,auth_failure');
    expect(out.saslUsername).toBe('bob@example.org');
    expect(templateSrv.formats).toEqual(['csv', undefined]);
  });

  it('reads resource values as strings and ignores anything else', async () => {
    const ds = newDataSource();
    const spy = jest.spyOn(ds, 'getResource').mockResolvedValue(['mx1', 7, null, 'mx2']);
    await expect(ds.getResourceValues('instances')).resolves.toEqual(['mx1', 'mx2']);
    expect(spy).toHaveBeenCalledWith('instances');
    spy.mockResolvedValue({ error: 'nope' });
    await expect(ds.getResourceValues('users')).resolves.toEqual([]);
  });
});

describe('variable support', () => {
  it('lists the chosen resource as variable values', async () => {
    const ds = newDataSource();
    const spy = jest.spyOn(ds, 'getResourceValues').mockResolvedValue(['example.org', 'example.net']);
    const vars = ds.variables as MailtrailVariableSupport;
    const res = await firstValueFrom(
      vars.query({ targets: [{ refId: 'A', resource: 'domains' }] } as unknown as Parameters<typeof vars.query>[0])
    );
    expect(spy).toHaveBeenCalledWith('domains');
    expect(res.data).toEqual([
      { text: 'example.org', value: 'example.org' },
      { text: 'example.net', value: 'example.net' },
    ]);
  });

  it('returns nothing for an unknown resource instead of asking the backend', async () => {
    const ds = newDataSource();
    const spy = jest.spyOn(ds, 'getResourceValues');
    const vars = ds.variables as MailtrailVariableSupport;
    const res = await firstValueFrom(
      vars.query({ targets: [{ refId: 'A', resource: 'passwords' }] } as unknown as Parameters<typeof vars.query>[0])
    );
    expect(res.data).toEqual([]);
    expect(spy).not.toHaveBeenCalled();
  });
});
