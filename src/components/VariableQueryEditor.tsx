import React from 'react';
import { QueryEditorProps, SelectableValue } from '@grafana/data';
import { InlineField, Select } from '@grafana/ui';

import type { DataSource } from '../datasource';
import { MailtrailOptions, MailtrailQuery, MailtrailVariableQuery, VariableResource } from '../types';

const RESOURCE_OPTIONS: Array<SelectableValue<VariableResource>> = [
  { label: 'Instances', value: 'instances', description: 'Exporter instances (from the settings and discovery)' },
  { label: 'Users', value: 'users', description: 'SASL and Dovecot user names seen in the journals' },
  { label: 'Domains', value: 'domains', description: 'Sender and recipient domains seen in the journals' },
];

type Props = QueryEditorProps<DataSource, MailtrailQuery, MailtrailOptions, MailtrailVariableQuery>;

export function VariableQueryEditor({ query, onChange }: Props) {
  const resource = query.resource ?? 'instances';
  return (
    <InlineField label="List" labelWidth={14} tooltip="What the variable's values are">
      <Select<VariableResource>
        inputId="mailtrail-variable-resource"
        aria-label="Variable values"
        width={30}
        options={RESOURCE_OPTIONS}
        value={resource}
        onChange={(v) => onChange({ ...query, resource: v.value ?? 'instances' })}
      />
    </InlineField>
  );
}
