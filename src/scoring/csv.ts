import { LgError } from '../domain/index.js';

/**
 * RFC 4180 CSV: fields separated by commas, records by CRLF or LF; a field in double quotes may hold commas,
 * line breaks and doubled quotes (""). A UTF-8 byte-order mark is ignored. Returns the raw cells as text.
 */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let inQuotes = false;
  let fieldStarted = false;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const endField = (): void => {
    row.push(field);
    field = '';
    fieldStarted = false;
  };
  const endRow = (): void => {
    endField();
    // A record that is one empty field is a blank line (RFC 4180 does not define it; we skip it).
    if (!(row.length === 1 && row[0] === '')) rows.push(row);
    row = [];
  };
  for (; i < text.length; i++) {
    const ch = text[i]!;
    if (inQuotes) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else inQuotes = false;
      } else field += ch;
      continue;
    }
    if (ch === '"' && !fieldStarted && field === '') {
      inQuotes = true;
      fieldStarted = true;
    } else if (ch === ',') endField();
    else if (ch === '\n') endRow();
    else if (ch === '\r') {
      if (text[i + 1] === '\n') i++;
      endRow();
    } else {
      field += ch;
      fieldStarted = true;
    }
  }
  if (inQuotes)
    throw new LgError('LG_DATA_INVALID', 'CSV ends inside a quoted field (unbalanced ")', {
      row: rows.length,
    });
  if (field !== '' || row.length > 0) endRow();
  return rows;
}

/** Quotes a cell only when it must (RFC 4180: comma, quote or line break inside). */
export function csvCell(value: string | number): string {
  const text = typeof value === 'number' ? String(value) : value;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function formatCsv(
  header: readonly string[],
  rows: readonly (readonly (string | number)[])[],
): string {
  const lines = [header.map(csvCell).join(',')];
  for (const r of rows) lines.push(r.map(csvCell).join(','));
  return `${lines.join('\n')}\n`;
}

/** A table of text cells with its header: rows[i][j] is column header[j]; '' is missing. */
export interface CsvTable {
  readonly header: readonly string[];
  readonly rows: readonly (readonly string[])[];
}

export function readCsvTable(text: string): CsvTable {
  const all = parseCsv(text);
  const head = all[0];
  if (head === undefined || head.every((h) => h.trim() === '')) {
    throw new LgError('LG_DATA_INVALID', 'the CSV file is empty (no header row)', { row: 0 });
  }
  const header = head.map((h) => h.trim());
  const seen = new Set<string>();
  header.forEach((name, j) => {
    if (name === '')
      throw new LgError('LG_DATA_INVALID', `column ${j + 1} has an empty name`, { column: '', row: 0 });
    if (seen.has(name))
      throw new LgError('LG_DATA_INVALID', `column "${name}" appears twice in the header`, {
        column: name,
        row: 0,
      });
    seen.add(name);
  });
  const rows = all.slice(1);
  rows.forEach((r, i) => {
    if (r.length !== header.length) {
      throw new LgError(
        'LG_DATA_INVALID',
        `data row ${i + 1} has ${r.length} cells, the header has ${header.length}`,
        {
          row: i + 1,
        },
      );
    }
  });
  return { header, rows: rows.map((r) => r.map((c) => c.trim())) };
}
