/** The draw request every draw benchmark sends (and the bare endpoint receives). */
export const DRAW_INPUT = {
  amountMinor: 100,
  currency: 'CNY',
  termMonths: 3,
  method: 'EQUAL_INSTALLMENT',
  deviceId: 'bench-device',
} as const;
