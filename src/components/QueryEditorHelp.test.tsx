import React from 'react';
import { render, screen } from '@testing-library/react';

import { newDataSource, newUser } from '../test/helpers';
import { MailtrailQuery } from '../types';
import { EXAMPLES, QueryEditorHelp } from './QueryEditorHelp';

describe('QueryEditorHelp', () => {
  it('puts the chosen example into the query', async () => {
    const user = newUser();
    const onClickExample = jest.fn();
    render(<QueryEditorHelp datasource={newDataSource()} query={{ refId: 'A' }} onClickExample={onClickExample} />);
    const buttons = screen.getAllByRole('button', { name: 'Use this query' });
    expect(buttons).toHaveLength(EXAMPLES.length);
    await user.click(buttons[2]);
    expect(onClickExample).toHaveBeenCalledWith({ refId: 'A', queryType: 'events', kind: 'auth_failure', limit: 100 });
  });

  it('has only examples the datasource would run', () => {
    const ds = newDataSource();
    for (const ex of EXAMPLES) {
      const q: MailtrailQuery = { refId: 'A', ...ex.query };
      expect({ title: ex.title, runs: ds.filterQuery(q) }).toEqual({ title: ex.title, runs: true });
    }
  });
});
