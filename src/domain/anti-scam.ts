/**
 * The warning a borrower sees with every COOLDOWN (a draw or transfer paused by the draw strategy or by the
 * SCAM_SAFE_ACCOUNT_TRANSFER typology). The pattern it guards against is the "safe account" scam; the hotline is
 * China's national anti-fraud number (Anti-Telecom and Online Fraud Law, Art. 32 asks for a remedy channel).
 */
export const ANTI_SCAM_WARNING = {
  zh:
    '【反诈提醒】公检法机关、银行和我们的客服都不会要求您借款并转账到“安全账户”，也不会让您开启屏幕共享或注销“校园贷”。' +
    '本次借款/转账已为您暂缓处理，冷静期结束后再放款。如有人正在电话中指导您操作，请立即挂断，不要向陌生账户转账；如有疑问请拨打反诈专线 96110 或联系我们。',
  en:
    'Anti-scam warning: police, courts, banks and our staff never ask you to borrow and move money to a "safe account", ' +
    'share your screen, or "cancel a student loan". We have paused this drawdown/transfer until the cooling-off period ends. ' +
    'If someone on the phone is guiding you, hang up, do not send money to an account you do not know, and contact us or ' +
    'the anti-fraud hotline (China: 96110) if in doubt.',
} as const;
