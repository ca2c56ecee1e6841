import React, { useState } from 'react';
import { render, screen, waitFor } from '@testing-library/react';

import { DataSource } from '../datasource';
import { newDataSource, newUser } from '../test/helpers';
import { MailtrailQuery, VariableResource } from '../types';
import { cleanId, QueryEditor } from './QueryEditor';

const VALUES: Record<VariableResource, string[]> = {
  instances: ['mx1', 'mx2'],
  users: ['alice@example.org', 'bob@example.org'],
  domains: ['example.org', 'example.net'],
};

function setup(initial: Partial<MailtrailQuery> = {}) {
  const ds: DataSource = newDataSource();
  const getValues = jest.spyOn(ds, 'getResourceValues').mockImplementation(async (r) => VALUES[r]);
  const onChange = jest.fn();
  const onRunQuery = jest.fn();
  // Grafana owns the query; the harness plays that part so typing accumulates.
  function Harness() {
    const [query, setQuery] = useState<MailtrailQuery>({ refId: 'A', ...initial });
    return (
      <QueryEditor
        datasource={ds}
        query={query}
        onChange={(q) => {
          setQuery(q);
          onChange(q);
        }}
        onRunQuery={onRunQuery}
      />
    );
  }
  render(<Harness />);
  const last = (): MailtrailQuery => onChange.mock.calls[onChange.mock.calls.length - 1][0];
  return { ds, getValues, onChange, onRunQuery, last, user: newUser() };
}

describe('QueryEditor', () => {
  it('shows recent events with the default limit for a new query', async () => {
    const { getValues } = setup();
    expect(screen.getByRole('radio', { name: 'Events' })).toBeChecked();
    expect(screen.getByLabelText('Limit')).toHaveValue(100);
    expect(screen.getByLabelText('Client IP')).toBeInTheDocument();
    // only the resources the visible fields need are asked for
    await waitFor(() => expect(getValues).toHaveBeenCalledWith('instances'));
    expect(getValues).toHaveBeenCalledWith('users');
    expect(getValues).toHaveBeenCalledWith('domains');
  });

  it('changes the query as one types and runs it when the field is left', async () => {
    const { user, last, onRunQuery } = setup({ queryType: 'events' });
    await user.type(screen.getByLabelText('Client IP'), ' 203.0.113.7 ');
    expect(last().clientIp).toBe(' 203.0.113.7 ');
    expect(onRunQuery).not.toHaveBeenCalled();
    await user.tab();
    expect(last().clientIp).toBe('203.0.113.7');
    expect(last().queryType).toBe('events');
    expect(onRunQuery).toHaveBeenCalledTimes(1);
  });

  it('switches to a trace query without running it until an id is given', async () => {
    const { user, last, onRunQuery, getValues } = setup();
    await user.click(screen.getByRole('radio', { name: 'Trace' }));
    expect(last().queryType).toBe('trace');
    expect(onRunQuery).not.toHaveBeenCalled();
    expect(screen.getByText(/Enter a queue id or a Message-ID/)).toBeInTheDocument();

    getValues.mockClear();
    // pasted, as a Message-ID is: one change instead of a render per key
    await user.click(screen.getByLabelText('Message-ID'));
    await user.paste('<20260603104057.1234@example.org>');
    await user.tab();
    expect(last().messageId).toBe('20260603104057.1234@example.org');
    expect(onRunQuery).toHaveBeenCalledTimes(1);
    expect(screen.queryByText(/Enter a queue id or a Message-ID/)).not.toBeInTheDocument();
    expect(screen.queryByLabelText('Client IP')).not.toBeInTheDocument();
    // a trace has no user or domain filters to fill
    expect(getValues).not.toHaveBeenCalledWith('users');
  });

  it('offers instances from the backend and sets the chosen one', async () => {
    const { user, last, onRunQuery } = setup();
    await user.click(screen.getByLabelText('Instance'));
    await user.click(await screen.findByText('mx2'));
    expect(last().instance).toBe('mx2');
    expect(onRunQuery).toHaveBeenCalled();
  });

  it('offers users for the logins filter and sets the outcome', async () => {
    const { user, last } = setup({ queryType: 'logins' });
    await user.click(screen.getByLabelText('User'));
    await user.click(await screen.findByText('bob@example.org'));
    expect(last().user).toBe('bob@example.org');
    await user.click(screen.getByRole('radio', { name: 'Failure' }));
    expect(last()).toMatchObject({ queryType: 'logins', user: 'bob@example.org', outcome: 'failure' });
  });

  it('keeps kinds as a comma list', async () => {
    const { user, last } = setup({ queryType: 'events', kind: 'reject' });
    expect(screen.getByText('reject')).toBeInTheDocument();
    await user.click(screen.getByLabelText('Kind'));
    await user.click(await screen.findByText('auth_failure'));
    expect(last().kind).toBe('reject,auth_failure');
  });

  it('refuses a limit outside 1..1000 and commits a valid one', async () => {
    const { user, onChange, last } = setup();
    const limit = screen.getByLabelText('Limit');
    await user.clear(limit);
    await user.type(limit, '5000');
    await user.tab();
    expect(screen.getByText('A whole number from 1 to 1000')).toBeInTheDocument();
    expect(onChange).not.toHaveBeenCalledWith(expect.objectContaining({ limit: 5000 }));
    await user.clear(limit);
    await user.type(limit, '250');
    await user.tab();
    expect(last().limit).toBe(250);
  });

  it('shows the backend error when autocomplete values cannot be read', async () => {
    const ds = newDataSource();
    jest.spyOn(ds, 'getResourceValues').mockRejectedValue({ data: { message: 'no exporter answered' } });
    render(
      <QueryEditor
        datasource={ds}
        query={{ refId: 'A', queryType: 'offenders' }}
        onChange={jest.fn()}
        onRunQuery={jest.fn()}
      />
    );
    expect(await screen.findByText('no exporter answered')).toBeInTheDocument();
  });
});

describe('cleanId', () => {
  it('drops whitespace and angle brackets pasted with a Message-ID', () => {
    expect(cleanId('  <a.b@example.org> ')).toBe('a.b@example.org');
    expect(cleanId('4AA091855DA0')).toBe('4AA091855DA0');
    expect(cleanId('<>')).toBe('');
  });
});
