import React from 'react';
import { render, screen } from '@testing-library/react';

import { newDataSource, newUser } from '../test/helpers';
import { VariableQueryEditor } from './VariableQueryEditor';

describe('VariableQueryEditor', () => {
  it('lists instances by default and switches to users', async () => {
    const user = newUser();
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
    await user.click(screen.getByLabelText('Variable values'));
    await user.click(await screen.findByText('Users'));
    expect(onChange).toHaveBeenCalledWith({ refId: 'A', resource: 'users' });
  });
});
