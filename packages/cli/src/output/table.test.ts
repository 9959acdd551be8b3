import { describe, expect, it } from 'vitest';
import { renderTable } from './table.js';

describe('renderTable', () => {
  it('pads columns to the widest cell and right-aligns the ones asked', () => {
    expect(
      renderTable(
        ['rail', 'USD'],
        [
          ['x402:exact', '$0.001'],
          ['l402', '$0.1011'],
        ],
        { right: [1] },
      ),
    ).toBe(
      [
        'rail            USD',
        '----------  -------',
        'x402:exact   $0.001',
        'l402        $0.1011',
      ].join('\n'),
    );
  });

  it('counts characters, not bytes, and handles missing cells', () => {
    expect(renderTable(['a', 'b'], [['✓', '']])).toBe('a  b\n-  -\n✓');
  });
});
