import React, { ChangeEvent, useState } from 'react';
import { QueryEditorProps, SelectableValue } from '@grafana/data';
import { InlineField, InlineFieldRow, Input, MultiSelect, RadioButtonGroup, Select, Text } from '@grafana/ui';

import type { DataSource } from '../datasource';
import {
  DEFAULT_QUERY,
  DELIVERY_STATUSES,
  EVENT_KINDS,
  LoginOutcome,
  MAX_LIMIT,
  MailtrailOptions,
  MailtrailQuery,
  QueryType,
  StringField,
} from '../types';
import { toOption, useResourceOptions } from './useResourceOptions';

type Props = QueryEditorProps<DataSource, MailtrailQuery, MailtrailOptions>;

export const QUERY_TYPE_OPTIONS: Array<SelectableValue<QueryType>> = [
  { label: 'Events', value: 'events', description: 'Journaled log lines, newest first, as logs' },
  { label: 'Trace', value: 'trace', description: 'One message across every mail host, as a trace' },
  { label: 'Logins', value: 'logins', description: 'Who authenticated from where, successes and failures' },
  { label: 'Stats', value: 'stats', description: 'Matching events per interval: graphs and alert rules' },
  { label: 'Offenders', value: 'offenders', description: 'Clients and users over the abuse thresholds' },
  { label: 'Instances', value: 'instances', description: 'The exporters, their journals and checkpoints' },
];

const OUTCOME_OPTIONS: Array<SelectableValue<LoginOutcome>> = [
  { label: 'Any', value: '' },
  { label: 'Success', value: 'success' },
  { label: 'Failure', value: 'failure' },
];

const KIND_OPTIONS = EVENT_KINDS.map((k) => toOption(k));
const STATUS_OPTIONS = DELIVERY_STATUSES.map((s) => toOption(s));

const LABEL_WIDTH = 14;

/** Queue ids and message ids are pasted from mail headers and logs: drop what is never part of them. */
export function cleanId(s: string): string {
  return s.trim().replace(/^<(.*)>$/, '$1');
}

export function QueryEditor({ query, onChange, onRunQuery, datasource }: Props) {
  const q: MailtrailQuery = { ...DEFAULT_QUERY, ...query };
  const queryType = q.queryType ?? 'events';
  const hasFilters = queryType === 'events' || queryType === 'stats';
  const isLogins = queryType === 'logins';

  const instances = useResourceOptions(datasource, 'instances', true);
  const users = useResourceOptions(datasource, 'users', hasFilters || isLogins);
  const domains = useResourceOptions(datasource, 'domains', hasFilters, (d) => '@' + d);

  const update = (patch: Partial<MailtrailQuery>, run = false) => {
    const next = { ...q, ...patch };
    onChange(next);
    if (run && datasource.filterQuery(next)) {
      onRunQuery();
    }
  };

  // Text fields change the query as one types and run it when the field is left.
  const textProps = (field: StringField, clean: (s: string) => string = (s) => s) => ({
    value: (q[field] as string | undefined) ?? '',
    onChange: (e: ChangeEvent<HTMLInputElement>) => update({ [field]: e.currentTarget.value }),
    onBlur: (e: React.FocusEvent<HTMLInputElement>) => update({ [field]: clean(e.currentTarget.value) }, true),
  });

  const selectProps = (field: StringField) => ({
    value: q[field] ? toOption(q[field] as string) : null,
    onChange: (v: SelectableValue<string> | null) => update({ [field]: v?.value ?? '' }, true),
    allowCustomValue: true,
    isClearable: true,
    width: 32,
  });

  return (
    <>
      <InlineFieldRow>
        <InlineField label="Query" labelWidth={LABEL_WIDTH} tooltip="What to ask the exporters for">
          <RadioButtonGroup<QueryType>
            options={QUERY_TYPE_OPTIONS}
            value={queryType}
            onChange={(v) => update({ queryType: v }, true)}
          />
        </InlineField>
      </InlineFieldRow>
      <InlineFieldRow>
        <InlineField
          label="Instance"
          labelWidth={LABEL_WIDTH}
          tooltip="Ask only this exporter; empty asks every configured or discovered exporter"
          invalid={Boolean(instances.error)}
          error={instances.error}
        >
          <Select
            inputId="mailtrail-instance"
            aria-label="Instance"
            placeholder="All instances"
            options={instances.options}
            isLoading={instances.loading}
            {...selectProps('instance')}
          />
        </InlineField>
      </InlineFieldRow>

      {queryType === 'trace' && <TraceFields q={q} textProps={textProps} />}

      {hasFilters && (
        <>
          <InlineFieldRow>
            <InlineField label="Kind" labelWidth={LABEL_WIDTH} tooltip="Only these event kinds; empty is every kind">
              <MultiSelect<string>
                inputId="mailtrail-kind"
                aria-label="Kind"
                placeholder="Any kind"
                options={KIND_OPTIONS}
                value={splitList(q.kind).map(toOption)}
                allowCustomValue
                width={48}
                onChange={(vs) =>
                  update(
                    {
                      kind: vs
                        .map((v) => v.value ?? '')
                        .filter(Boolean)
                        .join(','),
                    },
                    true
                  )
                }
              />
            </InlineField>
            <InlineField label="Status" labelWidth={LABEL_WIDTH} tooltip="Delivery status (status=) of delivery events">
              <Select
                inputId="mailtrail-status"
                aria-label="Status"
                placeholder="Any"
                options={STATUS_OPTIONS}
                {...selectProps('status')}
                width={20}
              />
            </InlineField>
          </InlineFieldRow>
          <InlineFieldRow>
            <InlineField
              label="SASL user"
              labelWidth={LABEL_WIDTH}
              tooltip="sasl_username of submissions and authentication failures"
              invalid={Boolean(users.error)}
              error={users.error}
            >
              <Select
                inputId="mailtrail-sasl-username"
                aria-label="SASL user"
                placeholder="Any user"
                options={users.options}
                isLoading={users.loading}
                {...selectProps('saslUsername')}
              />
            </InlineField>
            <InlineField label="Client IP" labelWidth={LABEL_WIDTH}>
              <Input
                id="mailtrail-client-ip"
                aria-label="Client IP"
                placeholder="203.0.113.7"
                width={24}
                {...textProps('clientIp', trim)}
              />
            </InlineField>
          </InlineFieldRow>
          <InlineFieldRow>
            <InlineField
              label="Sender"
              labelWidth={LABEL_WIDTH}
              tooltip="Envelope sender, the whole address (case does not matter)"
            >
              <Input
                id="mailtrail-sender"
                aria-label="Sender"
                placeholder="alice@example.org"
                width={32}
                {...textProps('sender', trim)}
              />
            </InlineField>
            <InlineField label="Recipient" labelWidth={LABEL_WIDTH} tooltip="Envelope recipient, the whole address">
              <Input
                id="mailtrail-recipient"
                aria-label="Recipient"
                placeholder="bob@example.net"
                width={32}
                {...textProps('recipient', trim)}
              />
            </InlineField>
          </InlineFieldRow>
          <InlineFieldRow>
            <InlineField
              label="Contains"
              labelWidth={LABEL_WIDTH}
              tooltip="Text the raw log line contains (case-insensitive); pick a domain or type anything"
              invalid={Boolean(domains.error)}
              error={domains.error}
            >
              <Select
                inputId="mailtrail-text"
                aria-label="Contains"
                placeholder="Any text"
                options={domains.options}
                isLoading={domains.loading}
                {...selectProps('text')}
                width={48}
              />
            </InlineField>
          </InlineFieldRow>
        </>
      )}

      {isLogins && (
        <InlineFieldRow>
          <InlineField label="User" labelWidth={LABEL_WIDTH} invalid={Boolean(users.error)} error={users.error}>
            <Select
              inputId="mailtrail-user"
              aria-label="User"
              placeholder="Any user"
              options={users.options}
              isLoading={users.loading}
              {...selectProps('user')}
            />
          </InlineField>
          <InlineField label="IP" labelWidth={LABEL_WIDTH}>
            <Input id="mailtrail-ip" aria-label="IP" placeholder="203.0.113.7" width={24} {...textProps('ip', trim)} />
          </InlineField>
          <InlineField label="Outcome" labelWidth={LABEL_WIDTH}>
            <RadioButtonGroup<LoginOutcome>
              options={OUTCOME_OPTIONS}
              value={q.outcome ?? ''}
              onChange={(v) => update({ outcome: v }, true)}
            />
          </InlineField>
        </InlineFieldRow>
      )}

      {(queryType === 'events' || isLogins) && (
        <LimitField limit={q.limit} onCommit={(limit) => update({ limit }, true)} />
      )}
    </>
  );
}

type TextProps = (
  field: StringField,
  clean?: (s: string) => string
) => {
  value: string;
  onChange: (e: ChangeEvent<HTMLInputElement>) => void;
  onBlur: (e: React.FocusEvent<HTMLInputElement>) => void;
};

function TraceFields({ q, textProps }: { q: MailtrailQuery; textProps: TextProps }) {
  const empty = !q.queueId?.trim() && !q.messageId?.trim();
  return (
    <>
      <InlineFieldRow>
        <InlineField
          label="Queue ID"
          labelWidth={LABEL_WIDTH}
          tooltip="Postfix queue id on any host; the trace follows relays and bounces from there"
        >
          <Input
            id="mailtrail-queue-id"
            aria-label="Queue ID"
            placeholder="4AA091855DA0"
            width={32}
            {...textProps('queueId', cleanId)}
          />
        </InlineField>
        <InlineField
          label="Message-ID"
          labelWidth={LABEL_WIDTH}
          tooltip="The Message-ID header, with or without angle brackets"
        >
          <Input
            id="mailtrail-message-id"
            aria-label="Message-ID"
            placeholder="20260603104057.1234@example.org"
            width={48}
            {...textProps('messageId', cleanId)}
          />
        </InlineField>
      </InlineFieldRow>
      {empty && (
        <Text color="secondary" element="p">
          Enter a queue id or a Message-ID to trace a message; the query runs when one is set.
        </Text>
      )}
    </>
  );
}

function LimitField({ limit, onCommit }: { limit?: number; onCommit: (limit: number) => void }) {
  const [draft, setDraft] = useState<string>(String(limit ?? DEFAULT_QUERY.limit));
  const parsed = Number(draft);
  const valid = Number.isInteger(parsed) && parsed >= 1 && parsed <= MAX_LIMIT;
  return (
    <InlineFieldRow>
      <InlineField
        label="Limit"
        labelWidth={LABEL_WIDTH}
        tooltip={`Rows per exporter, 1 to ${MAX_LIMIT}`}
        invalid={!valid}
        error={valid ? undefined : `A whole number from 1 to ${MAX_LIMIT}`}
      >
        <Input
          id="mailtrail-limit"
          aria-label="Limit"
          type="number"
          min={1}
          max={MAX_LIMIT}
          width={12}
          value={draft}
          onChange={(e: ChangeEvent<HTMLInputElement>) => setDraft(e.currentTarget.value)}
          onBlur={() => valid && parsed !== limit && onCommit(parsed)}
        />
      </InlineField>
    </InlineFieldRow>
  );
}

function splitList(s?: string): string[] {
  return (s ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
}

function trim(s: string): string {
  return s.trim();
}
