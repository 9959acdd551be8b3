/**
 * Plain-text tables for terminals: columns padded to their widest cell.
 *
 * @module
 */

/**
 * Renders rows under a header as an aligned text table (two spaces between columns, a rule
 * under the header). Cells are strings; a column is right-aligned when `right` lists it.
 *
 * @example
 * ```ts
 * import { renderTable } from './table.js';
 * renderTable(['rail', 'USD'], [['x402:exact', '$0.001']], { right: [1] });
 * // 'rail           USD\n----------  ------\nx402:exact  $0.001'
 * ```
 */
export function renderTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  options: { readonly right?: readonly number[] } = {},
): string {
  const widths = header.map((cell, i) =>
    Math.max(width(cell), ...rows.map((row) => width(row[i] ?? ''))),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => {
        const pad = ' '.repeat(Math.max(0, widths[i]! - width(cell)));
        return options.right?.includes(i) ? pad + cell : cell + pad;
      })
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** Display width: code points (the tables hold no wide characters). */
function width(text: string): number {
  return [...text].length;
}
