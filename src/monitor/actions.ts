/**
 * What the monitor can do when a typology fires (issue 5 "Actions"). HOLD, COOLDOWN and CHALLENGE are instructions
 * to the lender's app in the answer to the event; FREEZE_DRAW and SUSPEND go to the core's line actions (with reason
 * codes, subject to the engine's blast-radius guard); every firing also raises an alert for analysts.
 */
export const MONITOR_ACTION_TYPES = ['HOLD', 'COOLDOWN', 'CHALLENGE', 'FREEZE_DRAW', 'SUSPEND'] as const;
export type MonitorActionType = (typeof MONITOR_ACTION_TYPES)[number];
export const LINE_ACTIONS: ReadonlySet<MonitorActionType> = new Set(['FREEZE_DRAW', 'SUSPEND']);

export type Severity = 'low' | 'medium' | 'high' | 'critical';

/**
 * The anti-scam interstitial shown during a COOLDOWN. Wording follows the public anti-fraud messaging of the PRC
 * Anti-Telecom-and-Online-Fraud Law (Art. 18/34: warn and delay on risk) and the 96110 anti-fraud hotline.
 */
export const ANTI_SCAM_WARNING = {
  zh:
    '【反诈提醒】任何自称客服、公检法或"安全账户"要求您借款、转账或开启屏幕共享的，都是诈骗。' +
    '本次借款/转账已为您暂缓处理。请挂断电话，不要向陌生账户转账；如有疑问请拨打反诈专线 96110 或联系我们。',
  en:
    'Anti-scam warning: anyone who calls claiming to be customer service, the police or a bank and asks you to borrow, ' +
    'move money to a "safe account" or share your screen is a scammer. We have paused this drawdown/transfer. Hang up, ' +
    'do not send money to an account you do not know, and contact us or the police (China: 96110) if in doubt.',
} as const;

/** A narrow port to the core's line actions; the lead wires it to applyLineAction in src/core. */
export interface LineActionPort {
  applyLineAction(
    lineId: string,
    action: { readonly type: 'FREEZE_DRAW' | 'SUSPEND'; readonly reasons: readonly string[]; readonly automated: true; readonly traceId: string },
  ): Promise<LineActionOutcome>;
}

/** APPLIED: the line changed. BLOCKED: the blast-radius guard (or the line state) refused it; detail says why. */
export interface LineActionOutcome {
  readonly status: 'APPLIED' | 'BLOCKED';
  readonly detail?: string;
}

export interface ActionTaken {
  readonly actionId: string;
  readonly type: MonitorActionType;
  /** INSTRUCTED: told to the caller in this answer; PENDING: a line action queued to the core after commit. */
  readonly status: 'INSTRUCTED' | 'PENDING' | 'SKIPPED';
  readonly lineId?: string;
  readonly cooldownMs?: number;
  readonly warning?: { readonly zh: string; readonly en: string };
  readonly reasons: readonly string[];
}
