import { DataSourcePlugin } from '@grafana/data';

import { ConfigEditor } from './components/ConfigEditor';
import { QueryEditor } from './components/QueryEditor';
import { QueryEditorHelp } from './components/QueryEditorHelp';
import { DataSource } from './datasource';
import { MailtrailOptions, MailtrailQuery, MailtrailSecureJsonData } from './types';

export const plugin = new DataSourcePlugin<DataSource, MailtrailQuery, MailtrailOptions, MailtrailSecureJsonData>(
  DataSource
)
  .setConfigEditor(ConfigEditor)
  .setQueryEditor(QueryEditor)
  .setQueryEditorHelp(QueryEditorHelp);
