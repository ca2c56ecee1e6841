import { DataSourceInstanceSettings, PluginType } from '@grafana/data';

import { DataSource } from '../datasource';
import { MailtrailOptions } from '../types';

/** A real DataSource as Grafana would construct it from a saved datasource. */
export function newDataSource(jsonData: MailtrailOptions = {}): DataSource {
  const settings = {
    id: 1,
    uid: 'mailtrail-uid',
    type: 'mailtrail-postfix-datasource',
    name: 'mailtrail',
    access: 'proxy',
    readOnly: false,
    jsonData,
    meta: {
      id: 'mailtrail-postfix-datasource',
      name: 'mailtrail',
      type: PluginType.datasource,
      module: '',
      baseUrl: '',
      info: {
        author: { name: 'mailtrail' },
        description: '',
        links: [],
        logos: { small: '', large: '' },
        screenshots: [],
        updated: '',
        version: '',
      },
    },
  } as unknown as DataSourceInstanceSettings<MailtrailOptions>;
  return new DataSource(settings);
}
