/**
 * The reason-code catalogue: stable ids that every decision, line action and explanation refers to.
 *
 * Why a catalogue: Reg B (12 CFR 1002.9(b)(2)) requires the *specific principal reasons* for adverse action, and PIPL
 * Art. 24 gives a person affected by an automated decision the right to an explanation. So each code carries the
 * borrower's text in both languages, a specific regulator-style reason (never "internal policy" alone), what the
 * borrower can do about it, and whether the action can be appealed. Codes are never renamed or reused; add new ones.
 */
export type ReasonCategory = 'application' | 'draw' | 'line' | 'fraud' | 'engine' | 'compliance';

export interface ReasonDefinition {
  readonly code: string;
  readonly category: ReasonCategory;
  /** Lower is more important; used when a caller has no importance order of its own. */
  readonly priority: number;
  readonly zh: string;
  readonly en: string;
  readonly regulatorReason: string;
  readonly borrowerActionZh: string;
  readonly borrowerActionEn: string;
  readonly appealable: boolean;
}

/** Reg B practice (and the CFPB/FCRA key-factor rules): more than four reasons stop being helpful to the borrower. */
export const MAX_BORROWER_REASONS = 4;

type Entry = Omit<ReasonDefinition, 'code'>;

const ENTRIES: Record<string, Entry> = {
  // ---- application: scorecard and policy reasons
  R_SCORE_LOW: {
    category: 'application',
    priority: 30,
    zh: '您的综合信用评分未达到本产品的要求。',
    en: 'Your overall credit score does not meet the requirement for this product.',
    regulatorReason: 'Credit score below the approval cut-off of the application scorecard.',
    borrowerActionZh: '保持按时还款、降低负债后可再次申请。',
    borrowerActionEn: 'Keep up on-time repayments and reduce your debts, then apply again.',
    appealable: true,
  },
  R_AGE_BELOW_MIN: {
    category: 'application',
    priority: 1,
    zh: '您的年龄未满 18 周岁，暂不能申请。',
    en: 'You must be at least 18 years old to apply.',
    regulatorReason: 'Applicant under the statutory minimum age of 18 for consumer credit.',
    borrowerActionZh: '年满 18 周岁后可再次申请。',
    borrowerActionEn: 'You may apply again once you are 18.',
    appealable: false,
  },
  R_INCOME_INSUFFICIENT: {
    category: 'application',
    priority: 20,
    zh: '您的收入不足以支持所申请的额度。',
    en: 'Your income is not sufficient for the amount of credit requested.',
    regulatorReason: 'Income insufficient for amount of credit requested.',
    borrowerActionZh: '可补充收入证明，或申请较低的额度。',
    borrowerActionEn: 'Provide further proof of income or apply for a lower amount.',
    appealable: true,
  },
  R_DEBT_TO_INCOME_HIGH: {
    category: 'application',
    priority: 15,
    zh: '您当前的负债相对收入过高。',
    en: 'Your current debts are too high compared with your income.',
    regulatorReason: 'Excessive obligations in relation to income (debt-to-income ratio above policy limit).',
    borrowerActionZh: '偿还部分现有借款后可再次申请。',
    borrowerActionEn: 'Pay down some of your existing debts, then apply again.',
    appealable: true,
  },
  R_DELINQUENT_EXTERNAL: {
    category: 'application',
    priority: 10,
    zh: '您的征信报告显示存在逾期记录。',
    en: 'Your credit report shows late or missed payments with other lenders.',
    regulatorReason: 'Delinquent past or present credit obligations with others (credit bureau report).',
    borrowerActionZh: '结清逾期欠款并保持按时还款；如征信记录有误，可向征信机构提出异议。',
    borrowerActionEn:
      'Settle overdue amounts and keep paying on time; if the report is wrong, dispute it with the credit bureau.',
    appealable: true,
  },
  R_DELINQUENT_INTERNAL: {
    category: 'application',
    priority: 9,
    zh: '您在本平台的借款存在逾期。',
    en: 'You have overdue payments on loans with us.',
    regulatorReason: 'Delinquent past or present credit obligations with the creditor.',
    borrowerActionZh: '请尽快还清逾期款项。',
    borrowerActionEn: 'Please repay the overdue amounts as soon as possible.',
    appealable: true,
  },
  R_INQUIRY_VELOCITY: {
    category: 'application',
    priority: 25,
    zh: '近期您的征信被查询次数过多。',
    en: 'Your credit report has been checked by lenders many times recently.',
    regulatorReason: 'Number of recent inquiries on credit bureau report.',
    borrowerActionZh: '减少短期内的借款申请，一段时间后再试。',
    borrowerActionEn: 'Make fewer credit applications for a while, then try again.',
    appealable: true,
  },
  R_THIN_FILE: {
    category: 'application',
    priority: 35,
    zh: '您的信用记录较少，暂无法充分评估。',
    en: 'Your credit history is too limited for us to assess.',
    regulatorReason: 'Insufficient credit file (limited credit experience).',
    borrowerActionZh: '积累更多按时还款记录后可再次申请。',
    borrowerActionEn: 'Build up a record of on-time repayments, then apply again.',
    appealable: true,
  },
  R_BLACKLIST: {
    category: 'application',
    priority: 3,
    zh: '根据风险管理规定，暂无法为您提供服务。',
    en: 'We are unable to offer you credit under our risk-management rules.',
    regulatorReason:
      'Applicant matched a regulatory or internal exclusion list (sanctions, court enforcement or confirmed-fraud list).',
    borrowerActionZh: '如认为信息有误，可联系客服提出异议并提交证明材料。',
    borrowerActionEn: 'If you believe this is a mistake, contact us to dispute it and provide evidence.',
    appealable: true,
  },
  R_IDENTITY_UNVERIFIED: {
    category: 'application',
    priority: 2,
    zh: '您的身份信息未能通过核验。',
    en: 'We could not verify your identity.',
    regulatorReason: 'Unable to verify identity (customer due diligence per AML rules).',
    borrowerActionZh: '请核对身份证件信息并完成实名认证。',
    borrowerActionEn: 'Check your ID details and complete identity verification.',
    appealable: true,
  },
  R_EMPLOYMENT_SHORT: {
    category: 'application',
    priority: 40,
    zh: '您当前工作的时间较短。',
    en: 'You have been in your current job for a short time.',
    regulatorReason: 'Length of employment.',
    borrowerActionZh: '工作时间更长后可再次申请。',
    borrowerActionEn: 'You may apply again after a longer time in employment.',
    appealable: true,
  },
  R_BORROWER_CAP: {
    category: 'compliance',
    priority: 5,
    zh: '您的授信总额已达到单一借款人上限。',
    en: 'Your total credit with us has reached the limit for one borrower.',
    regulatorReason:
      'Aggregate credit to the borrower would exceed the per-borrower cap set by policy and regulation.',
    borrowerActionZh: '偿还部分借款后可申请更多额度。',
    borrowerActionEn: 'Repay part of your borrowing to free up credit.',
    appealable: false,
  },
  R_CHECKING_ACCOUNT: {
    category: 'application',
    priority: 45,
    zh: '您的银行账户余额情况影响了评估结果。',
    en: 'The status of your current (checking) account affected the assessment.',
    regulatorReason: 'Status of checking account (low or negative balance).',
    borrowerActionZh: '保持账户有稳定余额后可再次申请。',
    borrowerActionEn: 'Keep a steady positive balance in your account, then apply again.',
    appealable: true,
  },
  R_CREDIT_HISTORY: {
    category: 'application',
    priority: 32,
    zh: '您过往的借还款记录影响了评估结果。',
    en: 'Your past credit record affected the assessment.',
    regulatorReason: 'Credit history (past delays or critical accounts).',
    borrowerActionZh: '保持按时还款以改善信用记录。',
    borrowerActionEn: 'Keep paying on time to improve your credit record.',
    appealable: true,
  },
  R_LOAN_DURATION: {
    category: 'application',
    priority: 50,
    zh: '所申请的借款期限较长，风险较高。',
    en: 'The repayment term you asked for is long, which increases the risk.',
    regulatorReason: 'Requested term of credit.',
    borrowerActionZh: '可选择较短的期限。',
    borrowerActionEn: 'Consider a shorter term.',
    appealable: true,
  },
  R_LOAN_AMOUNT: {
    category: 'application',
    priority: 48,
    zh: '所申请的金额较高。',
    en: 'The amount you asked for is high.',
    regulatorReason: 'Amount of credit requested.',
    borrowerActionZh: '可申请较低的金额。',
    borrowerActionEn: 'Consider a lower amount.',
    appealable: true,
  },
  R_SAVINGS_LOW: {
    category: 'application',
    priority: 46,
    zh: '您的储蓄较少。',
    en: 'Your savings are low.',
    regulatorReason: 'Insufficient savings or liquid assets.',
    borrowerActionZh: '增加储蓄后可再次申请。',
    borrowerActionEn: 'Build up some savings, then apply again.',
    appealable: true,
  },
  R_HOUSING: {
    category: 'application',
    priority: 55,
    zh: '您的居住情况影响了评估结果。',
    en: 'Your housing situation affected the assessment.',
    regulatorReason: 'Length or type of residence.',
    borrowerActionZh: '如居住信息有变化，请更新后再申请。',
    borrowerActionEn: 'If your housing details have changed, update them and apply again.',
    appealable: true,
  },
  R_PURPOSE: {
    category: 'application',
    priority: 52,
    zh: '所申请的借款用途风险较高或不符合要求。',
    en: 'The stated purpose of the loan carries higher risk or is not eligible.',
    regulatorReason:
      'Purpose of credit (consumer credit may not fund housing, securities or other prohibited uses).',
    borrowerActionZh: '请确认借款用途符合消费用途要求。',
    borrowerActionEn: 'Make sure the loan is for an eligible consumer purpose.',
    appealable: true,
  },
  // ---- line status
  R_LINE_FROZEN: {
    category: 'line',
    priority: 6,
    zh: '您的额度已被冻结，暂不能借款。',
    en: 'Your credit line is frozen and you cannot borrow at the moment.',
    regulatorReason: 'Drawdowns suspended on the account pending risk review.',
    borrowerActionZh: '请联系客服了解解冻条件。',
    borrowerActionEn: 'Contact us to find out how the freeze can be lifted.',
    appealable: true,
  },
  R_LINE_SUSPENDED: {
    category: 'line',
    priority: 6,
    zh: '您的额度服务已暂停。',
    en: 'Service on your credit line is suspended.',
    regulatorReason: 'Account suspended pending review.',
    borrowerActionZh: '请联系客服了解原因并提交所需材料。',
    borrowerActionEn: 'Contact us to find out why and provide any documents requested.',
    appealable: true,
  },
  R_LINE_CLOSED: {
    category: 'line',
    priority: 6,
    zh: '您的额度已关闭。',
    en: 'Your credit line is closed.',
    regulatorReason: 'Account closed; no further extensions of credit.',
    borrowerActionZh: '如需继续使用，可重新申请。',
    borrowerActionEn: 'You may submit a new application.',
    appealable: false,
  },
  R_INSUFFICIENT_CREDIT: {
    category: 'draw',
    priority: 8,
    zh: '您的可用额度不足。',
    en: 'You do not have enough available credit for this amount.',
    regulatorReason: 'Requested drawdown exceeds available credit.',
    borrowerActionZh: '可减少借款金额，或还款后再借。',
    borrowerActionEn: 'Borrow a smaller amount, or repay first and try again.',
    appealable: false,
  },
  R_DRAW_VELOCITY: {
    category: 'draw',
    priority: 18,
    zh: '您短时间内借款次数过多。',
    en: 'You have made too many drawdowns in a short time.',
    regulatorReason: 'Drawdown frequency above the velocity limit.',
    borrowerActionZh: '请稍后再试。',
    borrowerActionEn: 'Please try again later.',
    appealable: true,
  },
  R_COOLING_OFF: {
    category: 'draw',
    priority: 12,
    zh: '为保护您的资金安全，本次借款将延迟发放。',
    en: 'To protect your money, this drawdown will be paid out after a short delay.',
    regulatorReason: 'Disbursement delayed for a cooling-off period due to elevated scam risk indicators.',
    borrowerActionZh: '如有人要求您借款并转账，请立即停止并联系我们或拨打 96110。',
    borrowerActionEn:
      'If anyone has asked you to borrow and transfer money, stop and contact us or the police.',
    appealable: true,
  },
  R_NEW_DEVICE: {
    category: 'fraud',
    priority: 14,
    zh: '您正在使用新设备，需要进一步验证身份。',
    en: 'You are using a new device, so we need to verify your identity.',
    regulatorReason: 'Transaction from an unrecognised device; step-up authentication required.',
    borrowerActionZh: '请完成身份验证后重试。',
    borrowerActionEn: 'Complete the identity check and try again.',
    appealable: true,
  },
  R_SCAM_TRANSFER_PATTERN: {
    category: 'fraud',
    priority: 4,
    zh: '本次借款存在被诈骗的风险，已暂停处理。',
    en: 'This drawdown shows signs of a scam and has been paused.',
    regulatorReason:
      'Activity matches an authorised-push-payment scam pattern (borrow then transfer to a new payee or "safe account").',
    borrowerActionZh: '任何要求您借款转账的都是诈骗。请联系我们或拨打反诈专线 96110。',
    borrowerActionEn:
      'Anyone asking you to borrow and transfer money is a scammer. Contact us or the police.',
    appealable: true,
  },
  R_ACCOUNT_TAKEOVER: {
    category: 'fraud',
    priority: 4,
    zh: '您的账户可能存在被盗用风险。',
    en: 'Your account may have been accessed by someone else.',
    regulatorReason:
      'Account-takeover indicators (credential or device change followed by high-risk activity).',
    borrowerActionZh: '请立即修改密码并联系客服核实。',
    borrowerActionEn: 'Change your password now and contact us to verify your account.',
    appealable: true,
  },
  R_DEVICE_FARM: {
    category: 'fraud',
    priority: 7,
    zh: '您的设备环境存在异常。',
    en: 'Unusual activity was detected on your device.',
    regulatorReason: 'Device shared by an abnormal number of accounts or emulator/automation detected.',
    borrowerActionZh: '请使用本人常用设备重试，或联系客服。',
    borrowerActionEn: 'Use your own usual device, or contact us.',
    appealable: true,
  },
  R_CASH_OUT: {
    category: 'fraud',
    priority: 11,
    zh: '您的交易存在套现嫌疑。',
    en: 'Your transactions suggest credit is being converted to cash improperly.',
    regulatorReason: 'Cash-out pattern (purchases with linked merchants followed by refunds or transfers).',
    borrowerActionZh: '请按约定用途使用额度，如有疑问请联系客服。',
    borrowerActionEn: 'Use your credit only for its agreed purpose; contact us if you have questions.',
    appealable: true,
  },
  R_LOAN_STACKING: {
    category: 'fraud',
    priority: 13,
    zh: '您近期在多家机构申请或借款。',
    en: 'You have recently applied for or taken loans from many lenders.',
    regulatorReason: 'Multiple concurrent credit applications or loans across lenders (loan stacking).',
    borrowerActionZh: '请合理借贷，减少多头借款后再申请。',
    borrowerActionEn: 'Borrow responsibly; reduce loans from multiple lenders, then apply again.',
    appealable: true,
  },
  R_FUND_MISUSE: {
    category: 'fraud',
    priority: 11,
    zh: '借款资金的使用不符合约定用途。',
    en: 'The borrowed money was not used for the agreed purpose.',
    regulatorReason:
      'Loan proceeds used for a prohibited purpose (e.g. securities, property, repayment of other debt).',
    borrowerActionZh: '请按合同约定用途使用资金，并可提供用途证明。',
    borrowerActionEn: 'Use the money as agreed; you may provide evidence of how it was used.',
    appealable: true,
  },
  R_CREDIT_REPORT_ABUSE: {
    category: 'compliance',
    priority: 16,
    zh: '征信查询授权存在异常。',
    en: 'There is a problem with the authorisation to check your credit report.',
    regulatorReason:
      'Credit report inquiry without a valid purpose or authorisation (Credit Reporting Regulation).',
    borrowerActionZh: '请确认已授权查询征信，或联系客服。',
    borrowerActionEn: 'Confirm that you authorised the credit check, or contact us.',
    appealable: true,
  },
  R_CALL_IN_PROGRESS: {
    category: 'fraud',
    priority: 5,
    zh: '检测到您正在通话或共享屏幕，为防诈骗已暂停操作。',
    en: 'You appear to be on a call or sharing your screen, so we paused this to protect you from scams.',
    regulatorReason:
      'Active call or screen sharing during a high-risk transaction (remote-coaching scam indicator).',
    borrowerActionZh: '请挂断电话、停止屏幕共享后自行操作；切勿听从他人指挥借款。',
    borrowerActionEn:
      'End the call and screen sharing and act on your own; never borrow on a stranger’s instructions.',
    appealable: true,
  },
  // ---- line management (behaviour)
  R_UTILISATION_HIGH: {
    category: 'line',
    priority: 22,
    zh: '您的额度使用率较高。',
    en: 'You are using a large share of your credit line.',
    regulatorReason: 'Proportion of revolving balance to credit limit is too high.',
    borrowerActionZh: '降低已用额度后，额度可能会恢复。',
    borrowerActionEn: 'Reducing your balance may help restore your limit.',
    appealable: true,
  },
  R_DAYS_PAST_DUE: {
    category: 'line',
    priority: 9,
    zh: '您有逾期未还的款项。',
    en: 'You have payments that are past due.',
    regulatorReason: 'Account delinquent (days past due above policy threshold).',
    borrowerActionZh: '请尽快还清逾期款项。',
    borrowerActionEn: 'Please repay the overdue amounts as soon as possible.',
    appealable: true,
  },
  R_GOOD_REPAYMENT: {
    category: 'line',
    priority: 60,
    zh: '感谢您一直按时还款。',
    en: 'Thank you for repaying on time.',
    regulatorReason: 'Consistent on-time repayment history.',
    borrowerActionZh: '继续保持良好的还款习惯。',
    borrowerActionEn: 'Keep up your good repayment record.',
    appealable: false,
  },
  R_INCOME_GROWTH: {
    category: 'line',
    priority: 61,
    zh: '您的收入情况有所改善。',
    en: 'Your income has improved.',
    regulatorReason: 'Verified increase in income.',
    borrowerActionZh: '无需操作。',
    borrowerActionEn: 'No action needed.',
    appealable: false,
  },
  R_LIMIT_REVIEW: {
    category: 'line',
    priority: 58,
    zh: '根据定期评估，您的额度已调整。',
    en: 'Your credit limit was adjusted after a periodic review.',
    regulatorReason: 'Periodic account review of creditworthiness.',
    borrowerActionZh: '如有疑问可联系客服。',
    borrowerActionEn: 'Contact us if you have questions.',
    appealable: true,
  },
  R_RISK_RESOLVED: {
    category: 'line',
    priority: 62,
    zh: '此前的风险问题已解除。',
    en: 'The earlier risk concern has been resolved.',
    regulatorReason: 'Prior risk indicator cleared after review.',
    borrowerActionZh: '无需操作。',
    borrowerActionEn: 'No action needed.',
    appealable: false,
  },
  // ---- engine
  R_ENGINE_ERROR: {
    category: 'engine',
    priority: 19,
    zh: '系统暂时无法完成审核，已转人工处理。',
    en: 'We could not complete the automatic check, so a person will review it.',
    regulatorReason: 'Automated decision could not be completed; referred to manual review (fail-closed).',
    borrowerActionZh: '请耐心等待审核结果。',
    borrowerActionEn: 'Please wait for the review result.',
    appealable: true,
  },
  R_BLAST_RADIUS_GUARD: {
    category: 'engine',
    priority: 19,
    zh: '为保护用户，本次额度调整需人工复核。',
    en: 'To protect customers, this change to your line needs a manual check.',
    regulatorReason:
      'Automated restrictive action volume exceeded the safety threshold; held for human review.',
    borrowerActionZh: '无需操作，我们会尽快处理。',
    borrowerActionEn: 'No action needed; we will handle it shortly.',
    appealable: true,
  },
  R_MANUAL_REVIEW: {
    category: 'engine',
    priority: 21,
    zh: '您的申请需要人工审核。',
    en: 'Your request needs to be reviewed by a person.',
    regulatorReason: 'Referred to manual underwriting review.',
    borrowerActionZh: '请耐心等待，如需补充材料我们会联系您。',
    borrowerActionEn: 'Please wait; we will contact you if we need more information.',
    appealable: true,
  },
  // ---- compliance
  R_CONSENT_MISSING: {
    category: 'compliance',
    priority: 2,
    zh: '缺少必要的个人信息处理授权。',
    en: 'We do not have your consent to process the personal information needed.',
    regulatorReason: 'Required consent for personal information processing not obtained (PIPL Art. 13/14).',
    borrowerActionZh: '请阅读并确认授权协议后重试。',
    borrowerActionEn: 'Read and accept the consent form, then try again.',
    appealable: false,
  },
  R_APR_CAP: {
    category: 'compliance',
    priority: 5,
    zh: '按规定，该产品的年化综合成本不能超过上限。',
    en: 'The annual cost of this credit would exceed the legal cap.',
    regulatorReason:
      'All-in annualised cost of credit above the regulatory cap (24% per PBoC and facilitation rules).',
    borrowerActionZh: '可选择其他期限或金额。',
    borrowerActionEn: 'Choose a different term or amount.',
    appealable: false,
  },
  R_BORROWER_REQUEST: {
    category: 'line',
    priority: 0,
    zh: '根据您的申请进行了调整。',
    en: 'This change was made at your request.',
    regulatorReason: 'Action taken at the borrower’s request.',
    borrowerActionZh: '无需操作。',
    borrowerActionEn: 'No action needed.',
    appealable: false,
  },
  R_FRAUD_CONFIRMED: {
    category: 'fraud',
    priority: 1,
    zh: '经核实，您的账户存在欺诈行为。',
    en: 'Our investigation confirmed fraud on your account.',
    regulatorReason: 'Fraud confirmed by investigation.',
    borrowerActionZh: '如有异议，可联系客服并提交证明材料。',
    borrowerActionEn: 'If you disagree, contact us and provide evidence.',
    appealable: true,
  },
  R_AGE_ABOVE_MAX: {
    category: 'application',
    priority: 2,
    zh: '您的年龄超出本产品的申请年龄上限。',
    en: 'Your age is above the maximum age for this product.',
    regulatorReason:
      'Applicant above the product’s maximum age (age derived from the resident ID, limit set in configuration).',
    borrowerActionZh: '如认为年龄信息有误，可申诉并提供身份证明。',
    borrowerActionEn: 'If your age on record is wrong, appeal and provide proof of identity.',
    appealable: true,
  },
  // ---- application: neutral per-feature scorecard reasons. A directional code ("your job is short", "the amount is
  // high") is shown only when it is true of the applicant's own value; otherwise the model cites one of these, which
  // names the factor without claiming a direction (Reg B 12 CFR 1002.9(b)(2): the specific reason must be accurate).
  R_EMPLOYMENT_DURATION: {
    category: 'application',
    priority: 41,
    zh: '您的工作年限情况影响了评估结果。',
    en: 'Your length of employment affected the assessment.',
    regulatorReason: 'Length of employment (relative to applicants who scored best on this factor).',
    borrowerActionZh: '如工作信息有变化，请更新后再申请。',
    borrowerActionEn: 'If your employment details have changed, update them and apply again.',
    appealable: true,
  },
  R_SAVINGS_STATUS: {
    category: 'application',
    priority: 47,
    zh: '您的储蓄账户情况影响了评估结果。',
    en: 'The status of your savings affected the assessment.',
    regulatorReason: 'Savings or liquid assets (relative to applicants who scored best on this factor).',
    borrowerActionZh: '如储蓄情况有变化，请更新后再申请。',
    borrowerActionEn: 'If your savings have changed, update the details and apply again.',
    appealable: true,
  },
  R_LOAN_TERM: {
    category: 'application',
    priority: 51,
    zh: '所申请的借款期限影响了评估结果。',
    en: 'The repayment term you asked for affected the assessment.',
    regulatorReason: 'Requested term of credit (relative to terms that scored best).',
    borrowerActionZh: '可尝试选择其他期限。',
    borrowerActionEn: 'Consider a different term.',
    appealable: true,
  },
  R_LOAN_AMOUNT_SIZE: {
    category: 'application',
    priority: 49,
    zh: '所申请的金额影响了评估结果。',
    en: 'The amount you asked for affected the assessment.',
    regulatorReason: 'Amount of credit requested (relative to amounts that scored best).',
    borrowerActionZh: '可尝试申请其他金额。',
    borrowerActionEn: 'Consider a different amount.',
    appealable: true,
  },
  R_INCOME_LEVEL: {
    category: 'application',
    priority: 21,
    zh: '您的收入情况影响了评估结果。',
    en: 'Your income affected the assessment.',
    regulatorReason: 'Income (relative to applicants who scored best on this factor, or income not stated).',
    borrowerActionZh: '可补充或更新收入证明。',
    borrowerActionEn: 'Provide or update proof of income.',
    appealable: true,
  },
  R_DEBT_LEVEL: {
    category: 'application',
    priority: 16,
    zh: '您当前的负债情况影响了评估结果。',
    en: 'Your current debts affected the assessment.',
    regulatorReason: 'Existing obligations (relative to applicants who scored best on this factor).',
    borrowerActionZh: '如负债情况有变化，请更新后再申请。',
    borrowerActionEn: 'If your debts have changed, update the details and apply again.',
    appealable: true,
  },
  R_CREDIT_RECORDS: {
    category: 'application',
    priority: 11,
    zh: '您的信用记录情况影响了评估结果。',
    en: 'Your credit records affected the assessment.',
    regulatorReason: 'Credit records (record not stated or not recognised).',
    borrowerActionZh: '如信用记录信息有误或缺失，请补充后再申请。',
    borrowerActionEn: 'If your credit record details are missing or wrong, complete them and apply again.',
    appealable: true,
  },
  // German credit characteristics that once cited the generic R_SCORE_LOW (src/scoring/reasons.ts), so a borrower
  // declined principally on one of them was never told which factor it was.
  R_PROPERTY: {
    category: 'application',
    priority: 53,
    zh: '您的资产情况影响了评估结果。',
    en: 'Your property and other assets affected the assessment.',
    regulatorReason: 'Property or other assets held (relative to applicants who scored best on this factor).',
    borrowerActionZh: '如资产情况有变化，请更新后再申请。',
    borrowerActionEn: 'If your property or assets have changed, update the details and apply again.',
    appealable: true,
  },
  R_OTHER_INSTALMENT_PLANS: {
    category: 'application',
    priority: 43,
    zh: '您在其他机构的分期还款情况影响了评估结果。',
    en: 'Your instalment plans with other lenders or stores affected the assessment.',
    regulatorReason:
      'Other instalment plans with banks or stores (relative to applicants who scored best on this factor).',
    borrowerActionZh: '如分期还款情况有变化，请更新后再申请。',
    borrowerActionEn: 'If your other instalment plans have changed, update the details and apply again.',
    appealable: true,
  },
  R_INSTALMENT_RATE: {
    category: 'application',
    priority: 44,
    zh: '分期还款额占您可支配收入的比例影响了评估结果。',
    en: 'The share of your disposable income your instalments take affected the assessment.',
    regulatorReason:
      'Instalment as a share of disposable income (relative to applicants who scored best on this factor).',
    borrowerActionZh: '可选择较低的金额或其他期限以降低每期还款额，或更新收入信息后再申请。',
    borrowerActionEn:
      'Consider a lower amount or another term to lower each instalment, or update your income details and apply again.',
    appealable: true,
  },
  // ---- the core's own reasons for an adverse outcome whose rule gave none that says why (a stored strategy version or
  // an overlay that declines or restricts with no reason, or only a favourable one): honest about what is known, and
  // appealable, so the borrower can have a person review the decision and give the specific reasons (PIPL Art. 24;
  // Reg B 12 CFR 1002.9(b)(2)). Never a claim of a legal requirement or of a limit change that did not happen.
  R_STRATEGY_DECLINE: {
    category: 'application',
    priority: 57,
    zh: '您的申请未通过我们的信用评估规则。',
    en: 'Your application did not pass our credit assessment rules.',
    regulatorReason:
      'Declined by a credit strategy rule that recorded no specific reason; the specific principal reasons are to be given on request and the decision reviewed by a person on appeal.',
    borrowerActionZh: '如有异议，可申诉，由人工复核并告知具体原因。',
    borrowerActionEn:
      'If you disagree, appeal: a person will review the decision and tell you the specific reasons.',
    appealable: true,
  },
  R_PERIODIC_REVIEW: {
    category: 'line',
    priority: 59,
    zh: '根据对您账户的定期复核，我们对您的额度服务作出了本次调整。',
    en: 'We made this change to your credit line after a periodic review of your account.',
    regulatorReason:
      'Periodic account review of creditworthiness; the review rule recorded no more specific reason (given on request and on appeal).',
    borrowerActionZh: '如有异议，可申诉，由人工复核并告知具体原因。',
    borrowerActionEn:
      'If you disagree, appeal: a person will review the change and tell you the specific reasons.',
    appealable: true,
  },
};

export const REASON_CODES: Readonly<Record<string, ReasonDefinition>> = Object.freeze(
  Object.fromEntries(
    Object.entries(ENTRIES).map(([code, entry]) => [code, Object.freeze({ code, ...entry })]),
  ),
);

export function isKnownReason(code: string): boolean {
  return Object.hasOwn(REASON_CODES, code);
}

/** Reasons that speak well of the borrower: an adverse action given only these would tell them nothing of why. */
const FAVOURABLE_REASONS: ReadonlySet<string> = new Set([
  'R_GOOD_REPAYMENT',
  'R_INCOME_GROWTH',
  'R_RISK_RESOLVED',
]);
/** Reasons LineGuard's automation writes (an engine that failed closed, the blast-radius guard), never a person. */
const AUTOMATION_REASONS: ReadonlySet<string> = new Set(['R_ENGINE_ERROR', 'R_BLAST_RADIUS_GUARD']);

/**
 * Why a person's reasons for an action cannot stand, or undefined: a reason only automation gives, or for an adverse
 * action (a restriction, a decline, a cancelled draw) none that says why — PIPL Art. 24 and Reg B's specific reasons;
 * "thank you for repaying on time" alone would also take the borrower's appeal away, favourable reasons not being
 * appealable. The codes are known (checked before).
 */
export function personReasonsProblem(reasons: readonly string[], adverse: boolean): string | undefined {
  const automationOnly = reasons.filter((code) => !personMayGive(code));
  if (automationOnly.length > 0)
    return `reason codes ${automationOnly.join(', ')} are given by automation only`;
  if (adverse && !reasons.some(saysWhy)) return 'an adverse action needs a reason that says why';
  return undefined;
}

/** Whether a person may give the code (the API's reason list says so, for the console to offer only these). */
export function personMayGive(code: string): boolean {
  return !AUTOMATION_REASONS.has(code);
}

/** Whether the code says why an adverse action was taken (not only a favourable word). */
export function saysWhy(code: string): boolean {
  return !FAVOURABLE_REASONS.has(code);
}

/**
 * An adverse outcome's reasons with one that says why: as given when one does (any but the favourable ones), else
 * `fallback` first (R_STRATEGY_DECLINE, R_PERIODIC_REVIEW: the core's honest, appealable reason for a rule that gave
 * none), so a borrower is never told nothing, or only "thank you for repaying on time".
 */
export function withReasonThatSaysWhy(reasons: readonly string[], fallback: string): string[] {
  return reasons.some(saysWhy) ? [...reasons] : [fallback, ...reasons];
}

/**
 * Reasons that rest on a legal requirement: the statutory minimum age, the PIPL consent, the regulatory cap on the
 * annualised cost, the per-borrower cap of the online-lending rules. Only a decision given one of them is explained
 * as "following a legal requirement"; without one, an explanation never says so.
 */
const LEGAL_REQUIREMENT_REASONS: ReadonlySet<string> = new Set([
  'R_AGE_BELOW_MIN',
  'R_CONSENT_MISSING',
  'R_APR_CAP',
  'R_BORROWER_CAP',
]);

export function restsOnLegalRequirement(reasons: readonly string[]): boolean {
  return reasons.some((code) => LEGAL_REQUIREMENT_REASONS.has(code));
}

/** Throws a plain Error on an unknown code: a decision citing a code nobody can explain is a bug, not a user error. */
export function getReason(code: string): ReasonDefinition {
  const def = isKnownReason(code) ? REASON_CODES[code] : undefined;
  if (def === undefined) {
    throw new Error(`unknown reason code ${code}`);
  }
  return def;
}

export type ReasonLang = 'zh' | 'en';

export interface BorrowerReason {
  readonly code: string;
  readonly text: string;
  readonly action: string;
  readonly appealable: boolean;
}

/**
 * What a borrower sees: at most `max` reasons, in the caller's order (the caller's order is its importance order, as
 * Reg B asks the principal reasons first), duplicates dropped. Every code must be known.
 */
export function borrowerReasons(
  codes: readonly string[],
  lang: ReasonLang,
  max: number = MAX_BORROWER_REASONS,
): BorrowerReason[] {
  const defs = codes.map(getReason);
  const seen = new Set<string>();
  const out: BorrowerReason[] = [];
  for (const def of defs) {
    if (seen.has(def.code) || out.length >= max) continue;
    seen.add(def.code);
    out.push({
      code: def.code,
      text: lang === 'zh' ? def.zh : def.en,
      action: lang === 'zh' ? def.borrowerActionZh : def.borrowerActionEn,
      appealable: def.appealable,
    });
  }
  return out;
}

/** Orders codes by catalogue priority (stable), for callers that collected reasons without an importance order. */
export function sortByPriority(codes: readonly string[]): string[] {
  return codes
    .map((code, index) => ({ code, index, priority: getReason(code).priority }))
    .sort((a, b) => a.priority - b.priority || a.index - b.index)
    .map((x) => x.code);
}
