import React from 'react';
import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';

import { newDataSource } from '../test/helpers';
import { VariableQueryEditor } from './VariableQueryEditor';

describe('VariableQueryEditor', () => {
  it('lists instances by default and switches to users', async () => {
    const onChange = jest.fn();
    render(
      <VariableQueryEditor
        datasource={newDataSource()}
        query={{ refId: 'A', resource: undefined as never }}
        onChange={onChange}
        onRunQuery={jest.fn()}
      />
    );
    expect(screen.getByText('Instances')).toBeInTheDocument();
    await userEvent.click(screen.getByLabelText('Variable values'));
    await userEvent.click(await screen.findByText('Users'));
    expect(onChange).toHaveBeenCalledWith({ refId: 'A', resource: 'users' });
  });
});
