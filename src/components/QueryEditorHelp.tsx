import React from 'react';
import { QueryEditorHelpProps } from '@grafana/data';
import { Button, Stack, Text } from '@grafana/ui';

import { MailtrailQuery } from '../types';

interface Example {
  title: string;
  explain: string;
  query: Omit<MailtrailQuery, 'refId'>;
}

export const EXAMPLES: Example[] = [
  {
    title: 'Follow one message',
    explain: 'Every host the message passed through, its deliveries, relays and bounce notices as one trace.',
    query: { queryType: 'trace', queueId: '4AA091855DA0' },
  },
  {
    title: 'Find a message by its Message-ID header',
    explain: 'Paste the header value; angle brackets are dropped.',
    query: { queryType: 'trace', messageId: '20260603104057.1234@example.org' },
  },
  {
    title: 'Failed logins',
    explain: 'SMTP AUTH and IMAP/POP3 authentication failures, newest first.',
    query: { queryType: 'events', kind: 'auth_failure', limit: 100 },
  },
  {
    title: 'What happened to mail for one recipient',
    explain: 'Deliveries to one address that did not succeed.',
    query: { queryType: 'events', kind: 'delivery', recipient: 'bob@example.net', status: 'bounced', limit: 100 },
  },
  {
    title: 'Where does a user log in from',
    explain: 'One row per user, IP, service and outcome, with counts and first/last seen.',
    query: { queryType: 'logins', user: '$user', limit: 100 },
  },
  {
    title: 'Rejects per interval (alerting)',
    explain: 'A time series per instance: use it in graphs and Grafana alert rules.',
    query: { queryType: 'stats', kind: 'reject' },
  },
  {
    title: 'Current offenders',
    explain: 'Clients and users over the abuse thresholds right now.',
    query: { queryType: 'offenders' },
  },
];

export function QueryEditorHelp({ onClickExample }: QueryEditorHelpProps<MailtrailQuery>) {
  return (
    <Stack direction="column" gap={2}>
      <Text element="h3">mailtrail queries</Text>
      <Text element="p">
        Every query asks all exporters (or the one picked under Instance) over the dashboard&apos;s time range. Filters
        match exactly (addresses case-insensitively) except Contains, which searches the raw log line. Any field takes
        template variables such as <code>$user</code>; Kind takes a multi-value variable.
      </Text>
      {EXAMPLES.map((ex) => (
        <Stack key={ex.title} direction="column" gap={0.5}>
          <Text weight="bold">{ex.title}</Text>
          <Text color="secondary">{ex.explain}</Text>
          <code>{JSON.stringify(ex.query)}</code>
          <div>
            <Button size="sm" variant="secondary" onClick={() => onClickExample({ refId: 'A', ...ex.query })}>
              Use this query
            </Button>
          </div>
        </Stack>
      ))}
    </Stack>
  );
}
