import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LgError } from './errors.js';
import {
  ageOn,
  maskName,
  maskNationalId,
  maskPhone,
  parseChineseResidentId,
  residentIdCheckChar,
} from './national-id.js';

const TODAY = '2025-06-01';

/** An independent generator: the check digit written out from GB 11643-1999, not via the module under test. */
function makeId(region: string, birth: string, seq: string): string {
  const body = `${region}${birth.replaceAll('-', '')}${seq}`;
  const weights = Array.from({ length: 17 }, (_, i) => 2 ** (17 - i) % 11);
  const sum = Array.from(body).reduce((acc, ch, i) => acc + Number(ch) * (weights[i] ?? 0), 0);
  const check = (12 - (sum % 11)) % 11;
  return body + (check === 10 ? 'X' : String(check));
}

function problem(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(LgError);
    expect((e as LgError).code).toBe('LG_INVALID_NATIONAL_ID');
    return ((e as LgError).details as { reason: string }).reason;
  }
  return undefined;
}

describe('parseChineseResidentId', () => {
  it('accepts the GB 11643-1999 sample and well-known valid numbers', () => {
    // The standard's worked example: 11010519491231002X.
    expect(parseChineseResidentId('11010519491231002X', TODAY)).toEqual({
      birthDate: '1949-12-31',
      sex: 'F',
      regionCode: '110105',
    });
    expect(parseChineseResidentId('11010519491231002x', TODAY).sex).toBe('F');
    const id = makeId('440301', '1990-03-07', '123');
    expect(parseChineseResidentId(id, TODAY)).toEqual({
      birthDate: '1990-03-07',
      sex: 'M',
      regionCode: '440301',
    });
  });

  it('agrees with an independent check-digit generator for random IDs', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 110000, max: 659999 }),
        fc.date({
          min: new Date('1930-01-01T00:00:00Z'),
          max: new Date('2025-05-31T00:00:00Z'),
          noInvalidDate: true,
        }),
        fc.integer({ min: 0, max: 999 }),
        (region, birth, seq) => {
          const date = birth.toISOString().slice(0, 10);
          const id = makeId(String(region), date, String(seq).padStart(3, '0'));
          const info = parseChineseResidentId(id, TODAY);
          expect(info.birthDate).toBe(date);
          expect(info.sex).toBe(seq % 2 === 1 ? 'M' : 'F');
          expect(residentIdCheckChar(id.slice(0, 17))).toBe(id[17]);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('names what is wrong', () => {
    const good = makeId('110101', '1990-03-07', '123');
    expect(problem(() => parseChineseResidentId(good.slice(0, 17), TODAY))).toBe('length');
    expect(problem(() => parseChineseResidentId(`${good}1`, TODAY))).toBe('length');
    expect(problem(() => parseChineseResidentId('', TODAY))).toBe('length');
    expect(problem(() => parseChineseResidentId(`11010119900307A23${good[17] ?? ''}`, TODAY))).toBe('format');
    expect(problem(() => parseChineseResidentId('X10101199003071234', TODAY))).toBe('format');
    expect(problem(() => parseChineseResidentId(makeId('110101', '1990-02-30', '123'), TODAY))).toBe('date');
    expect(problem(() => parseChineseResidentId(makeId('110101', '2025-06-02', '123'), TODAY))).toBe('date');
    expect(problem(() => parseChineseResidentId(makeId('110101', '1899-12-31', '123'), TODAY))).toBe('date');
    const wrongCheck = good.slice(0, 17) + (good[17] === '0' ? '1' : '0');
    expect(problem(() => parseChineseResidentId(wrongCheck, TODAY))).toBe('checksum');
    // A single transposed digit is caught by MOD 11-2.
    const swapped = `${good.slice(0, 6)}${good[7]}${good[6]}${good.slice(8)}`;
    if (swapped !== good) expect(problem(() => parseChineseResidentId(swapped, TODAY))).toBeDefined();
  });

  it('never echoes the number in the error', () => {
    const bad = makeId('110101', '1990-03-07', '123').slice(0, 17) + 'Y';
    try {
      parseChineseResidentId(bad, TODAY);
    } catch (e) {
      expect(JSON.stringify((e as LgError).toBody())).not.toContain(bad.slice(0, 17));
    }
  });

  it('born today is accepted', () => {
    expect(parseChineseResidentId(makeId('110101', TODAY, '002'), TODAY).birthDate).toBe(TODAY);
  });
});

describe('masking', () => {
  it('masks national IDs as first 3 + last 4', () => {
    expect(maskNationalId('110101199003071234')).toBe('110***********1234');
    expect(maskNationalId('1234567')).toBe('*******');
  });
  it('masks phones', () => {
    expect(maskPhone('13812345678')).toBe('138****5678');
    expect(maskPhone('+8613812345678')).toBe('+86138****5678');
    expect(maskPhone('12345')).toBe('*****');
    // A short number shows no more of itself than a mobile does: four digits hidden at least, never all shown.
    expect(maskPhone('6512345')).toBe('****345');
    expect(maskPhone('65123456')).toBe('****3456');
    expect(maskPhone('075512345678')).toBe('075*****5678');
    for (const phone of ['6512345', '65123456', '138123456', '13812345678', '+85265123456']) {
      const shown = maskPhone(phone).replace(/\D/g, '').length;
      expect(phone.replace(/\D/g, '').length - shown).toBeGreaterThanOrEqual(4);
    }
  });
  it('keeps only the first character of a name', () => {
    expect(maskName('张三丰')).toBe('张**');
    expect(maskName('李四')).toBe('李*');
    expect(maskName('王')).toBe('王*');
    expect(maskName('Li Wei')).toBe('L*****');
    expect(maskName('')).toBe('');
  });
});

describe('ageOn', () => {
  it('counts whole years', () => {
    expect(ageOn('2007-06-01', '2025-06-01')).toBe(18);
    expect(ageOn('2007-06-02', '2025-06-01')).toBe(17);
    expect(ageOn('2000-02-29', '2018-02-28')).toBe(17);
    expect(ageOn('2000-02-29', '2018-03-01')).toBe(18);
    expect(ageOn('2000-02-29', '2024-02-29')).toBe(24);
    expect(ageOn('1990-12-31', '1991-01-01')).toBe(0);
  });
  it('rejects bad dates', () => {
    expect(() => ageOn('2000-13-01', '2020-01-01')).toThrow(LgError);
  });
});
