import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { residentIdCheckChar } from '../../src/domain/national-id.js';
import { canonicalListValue, normaliseListValue, sharedHmac } from '../../src/monitor/lists.js';
import { canonicalCode } from '../../src/monitor/list-values.js';

/** Every spelling of one value has one canonical form per list type (findings round 6, F2 and F3). */

const fullWidth = (text: string): string =>
  [...text].map((c) => (/[0-9A-Za-z]/.test(c) ? String.fromCharCode(c.charCodeAt(0) + 0xfee0) : c)).join('');

describe('IP addresses: RFC 5952 text, IPv4-mapped IPv6 as IPv4', () => {
  it.each([
    ['10.17.226.192', '10.17.226.192'],
    [' 10.17.226.192 ', '10.17.226.192'],
    ['::ffff:10.17.226.192', '10.17.226.192'],
    ['::FFFF:10.17.226.192', '10.17.226.192'],
    ['::ffff:a11:e2c0', '10.17.226.192'],
    ['::FFFF:A11:E2C0', '10.17.226.192'],
    ['0:0:0:0:0:ffff:0a11:e2c0', '10.17.226.192'],
    ['0000:0000:0000:0000:0000:FFFF:10.17.226.192', '10.17.226.192'],
    ['2001:db8:3da6::1', '2001:db8:3da6::1'],
    ['2001:0db8:3da6:0000:0000:0000:0000:0001', '2001:db8:3da6::1'],
    ['2001:db8:3da6:0:0:0:0:1', '2001:db8:3da6::1'],
    ['2001:DB8:3DA6::1', '2001:db8:3da6::1'],
    ['2001:0DB8:3DA6:0000:0000:0000:0000:0001', '2001:db8:3da6::1'],
    // RFC 5952 §4.2: the longest run of zero groups, the first of equal runs; a single zero group is not shortened.
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['0:0:0:0:0:0:0:0', '::'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['1:0:0:0:0:0:0:0', '1::'],
    ['fe80:0:0:0:0:0:0:1', 'fe80::1'],
    // Not IPv4-mapped: stays IPv6 (IPv4-compatible ::a.b.c.d is deprecated, written in hex).
    ['::10.0.0.1', '::a00:1'],
    ['::ffff:0:10.0.0.1', '::ffff:0:a00:1'],
  ])('%s → %s', (spelling, canonical) => {
    expect(canonicalListValue('ip', spelling)).toBe(canonical);
    expect(normaliseListValue('ip', spelling)).toBe(canonical);
  });

  it.each(['not-an-ip', '10.0.0.256', '010.0.0.1', '1::2::3', '1:2:3:4:5:6:7:8:9', 'fe80::1%eth0', ''])(
    'refuses %j as an IP',
    (text) => {
      expect(canonicalListValue('ip', text)).toBeUndefined();
    },
  );
});

describe('payees: card and account numbers without separators', () => {
  const CARD = '6222717309437786';
  it.each([
    CARD,
    ` ${CARD} `,
    '6222 7173 0943 7786',
    '6222-7173-0943-7786',
    '6222 - 7173 - 0943 - 7786',
    '6222\u30007173\u30000943\u30007786',
    fullWidth(CARD),
    fullWidth('6222-7173-0943-7786'),
    '6222\uff0d7173\uff0d0943\uff0d7786',
    '6222.7173.0943.7786',
    '6222/7173/0943/7786',
    '6222_7173_0943_7786',
    '6222,7173,0943,7786',
    '6222\u200b7173\u200b0943\u200b7786\u200b',
    '\ufeff6222717309437786\u2060',
    // Arabic-Indic and Devanagari digits.
    '\u0666\u0662\u0662\u0662\u0667\u0661\u0667\u0663\u0660\u0669\u0664\u0663\u0667\u0667\u0668\u0666',
    '\u096c\u0968\u0968\u0968\u096d\u0967\u096d\u0969\u0966\u096f\u096a\u0969\u096d\u096d\u096e\u096c',
  ])('%j → the digits', (spelling) => {
    expect(canonicalListValue('payee', spelling)).toBe(CARD);
    expect(normaliseListValue('payee', spelling)).toBe(CARD);
  });

  it('keeps an identifier that is not a digit string as it is (trimmed, full-width folded)', () => {
    expect(canonicalListValue('payee', ' mule-acct-77 ')).toBe('mule-acct-77');
    expect(canonicalListValue('payee', fullWidth('mule-acct-77'))).toBe('mule-acct-77');
    expect(canonicalListValue('payee', 'Mule-77')).toBe('Mule-77');
    expect(canonicalListValue('payee', '   ')).toBeUndefined();
    // Nothing visible, or text that is not well-formed UTF-16, is no payee: stored, it could never match one.
    expect(canonicalListValue('payee', '\u200b')).toBeUndefined();
    expect(canonicalListValue('payee', 'acct\ud800')).toBeUndefined();
    expect(canonicalListValue('payee', 'mule\u200b-77')).toBe('mule-77');
    expect(canonicalListValue('device', 'dev\u200b-AB12\u2060')).toBe('dev-AB12');
  });
});

describe('phones: a Chinese mobile as its 11 digits', () => {
  const PHONE = '13912345678';
  it.each([
    PHONE,
    '+86 139 1234 5678',
    '+86-13912345678',
    '0086-139-1234-5678',
    '8613912345678',
    '+86013912345678',
    '+86 0139 1234 5678',
    '0086013912345678',
    '013912345678',
    '+86 (139) 1234.5678',
    '139.1234.5678',
    fullWidth(PHONE),
    `＋８６ ${fullWidth(PHONE)}`,
  ])('%j → 13912345678', (spelling) => {
    expect(canonicalListValue('phoneHash', spelling)).toBe(PHONE);
    expect(normaliseListValue('phoneHash', spelling)).toBe(PHONE);
  });

  it.each(['12345', '010-12345678', '23912345678', '+1 415 555 0100', '139123456789', 'abc'])(
    'refuses %j as a mobile',
    (text) => {
      expect(canonicalListValue('phoneHash', text)).toBeUndefined();
    },
  );
});

describe('national IDs: 18 characters, upper-case X, a valid check character', () => {
  const first17 = '11010519491231002';
  const ID = first17 + residentIdCheckChar(first17);
  it.each([
    ID,
    ID.toLowerCase(),
    ` ${ID} `,
    `${ID.slice(0, 6)}-${ID.slice(6, 14)}-${ID.slice(14)}`,
    `${ID.slice(0, 6)} ${ID.slice(6, 14)} ${ID.slice(14)}`,
    `${ID.slice(0, 6)}.${ID.slice(6, 14)}.${ID.slice(14)}`,
    fullWidth(ID),
    fullWidth(ID.toLowerCase()),
  ])('%j → the ID', (spelling) => {
    expect(ID).toBe('11010519491231002X');
    expect(canonicalListValue('nationalIdHash', spelling)).toBe(ID);
    expect(normaliseListValue('nationalIdHash', spelling)).toBe(ID);
  });

  it.each(['ABCDEF0123', '110105194912310021', '11010519491231002', '1101051949123100200'])(
    'refuses %j as a national ID',
    (text) => {
      expect(canonicalListValue('nationalIdHash', text)).toBeUndefined();
    },
  );
});

describe('device ids and borrower ids are case-sensitive (opaque tokens), only trimmed', () => {
  it('keeps case', () => {
    expect(canonicalListValue('device', ' DEV-1 ')).toBe('DEV-1');
    expect(canonicalListValue('device', 'dev-1')).toBe('dev-1');
    expect(canonicalListValue('user', ' u-1 ')).toBe('u-1');
  });
});

describe('the shared HMAC of a value is the HMAC of its canonical form', () => {
  it('matches a partner entry whatever the spelling', () => {
    const key = randomBytes(32);
    expect(sharedHmac(key, 'ip', '::ffff:10.17.226.192')).toBe(sharedHmac(key, 'ip', '10.17.226.192'));
    expect(sharedHmac(key, 'ip', '2001:0db8:3da6:0:0:0:0:1')).toBe(sharedHmac(key, 'ip', '2001:db8:3da6::1'));
    expect(sharedHmac(key, 'payee', '6222 7173 0943 7786')).toBe(
      sharedHmac(key, 'payee', '6222717309437786'),
    );
  });
});

describe('codes of a closed vocabulary (inquiry purposes and origins): one form whatever the spelling', () => {
  it.each([
    ['LOAN_APPROVAL', 'LOAN_APPROVAL'],
    ['loan_approval', 'LOAN_APPROVAL'],
    [' LOAN_APPROVAL ', 'LOAN_APPROVAL'],
    ['Loan-Approval', 'LOAN_APPROVAL'],
    ['loan approval', 'LOAN_APPROVAL'],
    ['LOAN__APPROVAL', 'LOAN_APPROVAL'],
    ['_LOAN_APPROVAL_', 'LOAN_APPROVAL'],
    ['LOAN_APPROVAL\u200b', 'LOAN_APPROVAL'],
    [fullWidth('loan') + '\u3000' + fullWidth('approval'), 'LOAN_APPROVAL'],
    ['post_loan_mgmt', 'POST_LOAN_MGMT'],
    [' self ', 'SELF'],
  ])('%j is %s', (value, code) => {
    expect(canonicalCode(value)).toBe(code);
  });

  it('nothing left is no code', () => {
    expect(canonicalCode(' _ ')).toBeUndefined();
    expect(canonicalCode('\u200b')).toBeUndefined();
    expect(canonicalCode('\ud800')).toBeUndefined();
  });
});
