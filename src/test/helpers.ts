import { DataSourceInstanceSettings, PluginType } from '@grafana/data';
import userEvent from '@testing-library/user-event';

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

/**
 * A user-event session without delays between keystrokes: typing is one
 * chain of microtasks rather than a timer per key, so it takes a few
 * milliseconds whatever the machine's load, and a test that timed out
 * cannot go on typing into the next test's inputs.
 */
export function newUser() {
  return userEvent.setup({ delay: null });
}
