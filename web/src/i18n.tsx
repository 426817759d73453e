import { createContext, useContext, useEffect, useState, type ReactNode } from 'react';

export type Lang = 'zh' | 'en';

const WORDS = {
  appName: { zh: 'LineGuard 风控台', en: 'LineGuard console' },
  signIn: { zh: '登录', en: 'Sign in' },
  signOut: { zh: '退出', en: 'Sign out' },
  apiKey: { zh: 'API 密钥', en: 'API key' },
  apiKeyHelp: {
    zh: '密钥只保存在本标签页，关闭即清除。',
    en: 'The key is kept for this tab only and forgotten when it closes.',
  },
  signedInAs: { zh: '当前身份', en: 'Signed in as' },
  role: { zh: '角色', en: 'Role' },
  language: { zh: 'English', en: '中文' },
  languageLabel: { zh: '切换语言', en: 'Switch language' },
  overview: { zh: '总览', en: 'Overview' },
  queues: { zh: '待办队列', en: 'Queues' },
  lines: { zh: '额度与借款人', en: 'Lines and borrowers' },
  strategies: { zh: '策略', en: 'Strategies' },
  ledger: { zh: '账本', en: 'Ledger' },
  decisionsPerMinute: { zh: '每分钟决策（按结果）', en: 'Decisions per minute by outcome' },
  chartTime: { zh: '时间', en: 'Time' },
  chartPerMinute: { zh: '决策数 / 分钟', en: 'Decisions / min' },
  approvalRate: { zh: '通过率', en: 'Approval rate' },
  declineRate: { zh: '拒绝率', en: 'Decline rate' },
  freezeRate: { zh: '冻结/暂停率', en: 'Freeze rate' },
  strategyOwn: { zh: '策略本身（核心规则之前）', en: 'Strategy alone (before the core’s rules)' },
  simUnreadable: {
    zh: '条已存决策的加密输入无法打开，未参与回放，也不计入以上任何数字',
    en: 'stored decisions have sealed inputs no data key opens: not replayed, and in none of the figures above',
  },
  simMissingFacts: {
    zh: '条已存决策缺少候选策略读取、而当时生效版本未声明的输入（记录时未保存或未计算），未参与回放，也不计入以上任何数字',
    en: 'stored decisions lack an input the candidate reads that their deciding version did not declare (not recorded or not computed then): not replayed, and in none of the figures above',
  },
  openComplaints: { zh: '未结投诉（逾期）', en: 'Open complaints (overdue)' },
  openAppeals: { zh: '未结申诉（逾期）', en: 'Open appeals (overdue)' },
  unreadableScores: { zh: '无法打开的评分（未计入 PSI）', en: 'Scores no data key opens (not in PSI)' },
  latency: { zh: '决策耗时 p50 / p99', en: 'Decision latency p50 / p99' },
  openAlerts: { zh: '未结预警', en: 'Open alerts' },
  linesByStatus: { zh: '额度状态', en: 'Lines by status' },
  ledgerHead: { zh: '账本最新序号', en: 'Ledger head' },
  lastHour: { zh: '最近 60 分钟', en: 'Last 60 minutes' },
  noData: { zh: '暂无数据', en: 'No data yet' },
  loading: { zh: '加载中…', en: 'Loading…' },
  search: { zh: '搜索', en: 'Search' },
  searchLines: { zh: '额度编号或借款人编号（至少 4 位）', en: 'Line or borrower id (4+ characters)' },
  status: { zh: '状态', en: 'Status' },
  all: { zh: '全部', en: 'All' },
  limit: { zh: '额度', en: 'Limit' },
  available: { zh: '可用', en: 'Available' },
  outstanding: { zh: '在贷', en: 'Outstanding' },
  dpd: { zh: '逾期天数', en: 'Days past due' },
  bucket: { zh: '逾期分档', en: 'Bucket' },
  next: { zh: '下一页', en: 'Next page' },
  borrower: { zh: '借款人', en: 'Borrower' },
  rate: { zh: '年利率', en: 'Annual rate' },
  actions: { zh: '额度操作', en: 'Line actions' },
  reasons: { zh: '原因', en: 'Reasons' },
  when: { zh: '时间', en: 'When' },
  type: { zh: '类型', en: 'Type' },
  by: { zh: '执行者', en: 'By' },
  automated: { zh: '自动', en: 'automated' },
  loans: { zh: '借款', en: 'Loans' },
  principal: { zh: '本金', en: 'Principal' },
  alerts: { zh: '预警', en: 'Alerts' },
  severity: { zh: '级别', en: 'Severity' },
  typology: { zh: '风险类型', en: 'Typology' },
  user: { zh: '用户', en: 'User' },
  open: { zh: '打开', en: 'Open' },
  evidence: { zh: '证据', en: 'Evidence' },
  entityGraph: { zh: '关联图谱', en: 'Entity graph' },
  features: { zh: '特征值', en: 'Feature values' },
  rules: { zh: '命中规则', en: 'Rules fired' },
  acknowledge: { zh: '确认处理中', en: 'Acknowledge' },
  close: { zh: '关闭预警', en: 'Close alert' },
  saved: { zh: '已保存', en: 'Saved' },
  versions: { zh: '版本', en: 'Versions' },
  active: { zh: '生效中', en: 'active' },
  compare: { zh: '对比', en: 'Compare' },
  editor: { zh: '编辑器', en: 'Editor' },
  validate: { zh: '校验', en: 'Validate' },
  valid: { zh: '校验通过', en: 'Valid' },
  simulate: { zh: '模拟', en: 'Simulate' },
  saveDraft: { zh: '保存为新版本', en: 'Save as new version' },
  activate: { zh: '启用此版本', en: 'Activate this version' },
  from: { zh: '从', en: 'From' },
  to: { zh: '到', en: 'To' },
  simulation: { zh: '模拟结果', en: 'Simulation report' },
  before: { zh: '当前', en: 'Current' },
  after: { zh: '候选', en: 'Candidate' },
  changed: { zh: '结果变化', en: 'Changed outcomes' },
  overlays: { zh: '宏观调节参数', en: 'Overlays' },
  overlayHistory: { zh: '调节参数变更记录', en: 'Overlay changes' },
  value: { zh: '当前值', en: 'Value' },
  bounds: { zh: '允许范围', en: 'Bounds' },
  description: { zh: '说明', en: 'Description' },
  verifyLedger: { zh: '账本校验', en: 'Ledger verification' },
  entries: { zh: '条目数', en: 'Entries' },
  headHash: { zh: '链头哈希', en: 'Head hash' },
  lookUpDecision: { zh: '查询决策', en: 'Look up a decision' },
  decisionId: { zh: '决策编号', en: 'Decision id' },
  find: { zh: '查询', en: 'Find' },
  outcome: { zh: '结果', en: 'Outcome' },
  trace: { zh: '决策轨迹', en: 'Decision trace' },
  inputs: { zh: '输入', en: 'Inputs' },
  notFound: { zh: '未找到', en: 'Not found' },
  forbiddenHere: { zh: '您的角色不能执行此操作。', en: 'Your role cannot do this.' },
  borrowerView: { zh: '我的额度', en: 'My credit line' },
  borrowerToken: { zh: '借款人令牌', en: 'Borrower token' },
  whatToDo: { zh: '您可以', en: 'What you can do' },
  appeal: { zh: '申诉', en: 'Appeal' },
  complaint: { zh: '投诉', en: 'Complaint' },
  submit: { zh: '提交', en: 'Submit' },
  yourText: { zh: '说明', en: 'Your explanation' },
  category: { zh: '类别', en: 'Category' },
  deadline: { zh: '处理期限', en: 'Deadline' },
  cost: { zh: '费用', en: 'Cost' },
  cases: { zh: '案件', en: 'Cases' },
  changes: { zh: '待复核变更', en: 'Pending changes' },
  priorityWord: { zh: '优先级', en: 'Priority' },
  sla: { zh: '时限', en: 'SLA' },
  assignee: { zh: '处理人', en: 'Assignee' },
  assignToMe: { zh: '由我处理', en: 'Assign to me' },
  note: { zh: '备注', en: 'Note' },
  notes: { zh: '处理记录', en: 'Notes' },
  approve: { zh: '批准', en: 'Approve' },
  reject: { zh: '驳回', en: 'Reject' },
  diffWord: { zh: '变更内容', en: 'Change' },
  expires: { zh: '过期时间', en: 'Expires' },
  appealSent: { zh: '申诉已提交', en: 'Appeal filed' },
  myAppeals: { zh: '我的申诉', en: 'My appeals' },
  myComplaints: { zh: '我的投诉', en: 'My complaints' },
  portfolio: { zh: '资产与模型', en: 'Portfolio and models' },
  snapshots: { zh: '每日快照', en: 'Daily snapshots' },
  typologyQuality: { zh: '风险类型预警质量', en: 'Typology alert quality' },
  undisposed: { zh: '未定性', en: 'Undisposed' },
  falsePositiveRate: { zh: '误报率', en: 'False-positive rate' },
  slaAttainment: { zh: '时限达成（按时/已结/全部）', en: 'SLA attainment (in time / resolved / all)' },
  checkpoints: { zh: '签名检查点', en: 'Signed checkpoints' },
  signCheckpoint: { zh: '立即签发检查点', en: 'Sign a checkpoint now' },
  skipToContent: { zh: '跳到正文', en: 'Skip to content' },
  outcomes: { zh: '处理结果', en: 'Outcomes' },
  outcomeForm: { zh: '填写处理结果', en: 'Resolve as' },
  noteOptional: { zh: '备注（可选，仅内部可见）', en: 'Note (optional, staff only)' },
  submitOutcome: { zh: '提交处理结果', en: 'Submit outcome' },
  cancel: { zh: '取消', en: 'Cancel' },
  sending: { zh: '提交中…', en: 'Sending…' },
  required: { zh: '必填', en: 'required' },
  optional: { zh: '可选', en: 'optional' },
  notSent: { zh: '尚未提交，请先修正：', en: 'Nothing was sent. Please fix:' },
  limitYuan: { zh: '额度（元，最多两位小数）', en: 'Limit (yuan, up to 2 decimals)' },
  limitHintGrant: {
    zh: '授予的额度，例如 12,345.67；金额达到四眼门槛时须第二人批准。',
    en: 'The limit granted, e.g. 12,345.67; at or above the four-eyes threshold a second person must approve it.',
  },
  limitHintLowerOrRestore: {
    zh: '可选。低于额度当前值即为降额，须选择说明原因的原因代码；针对降额的申诉，可填写恢复到的额度（高于降额后、不超过降额前）。留空：解除限制，降额则恢复到降额前。',
    en: 'Optional. Below the line’s current limit it is a cut, which needs reasons that say why; for an appeal against a cut, the limit to restore to (above what the cut left, at most what it was before). Blank: lift the restriction, or restore a cut in full.',
  },
  limitHintLower: {
    zh: '可选：以较低额度恢复，须选择说明原因的原因代码。留空：额度不变。',
    en: 'Optional: reinstate at a lower limit, with reasons that say why. Blank: the limit stays.',
  },
  limitIs: { zh: '将提交', en: 'Sent as' },
  fen: { zh: '分', en: 'fen' },
  ratePercent: { zh: '年利率（%）', en: 'Annual rate (%)' },
  rateHint: {
    zh: '按百分比填写，例如 15 表示年化 15%，最多四位小数；利率上限与产品利率范围仍然适用。',
    en: 'In percent, e.g. 15 for 15% a year, up to 4 decimals; the APR cap and the product’s range still apply.',
  },
  reasonsPick: {
    zh: '原因（从原因目录中选择，最多 8 项）',
    en: 'Reasons (from the reason catalogue, at most 8)',
  },
  reasonsHintAdverse: {
    zh: '至少一项须说明原因（不能只有 R_GOOD_REPAYMENT、R_INCOME_GROWTH 或 R_RISK_RESOLVED）。',
    en: 'At least one must say why (not only R_GOOD_REPAYMENT, R_INCOME_GROWTH or R_RISK_RESOLVED).',
  },
  reasonsHintCancel: {
    zh: '可选：不选则以 R_MANUAL_REVIEW 取消。',
    en: 'Optional: without reasons the draw is cancelled with R_MANUAL_REVIEW.',
  },
  reasonsHintLower: { zh: '仅在降低额度时需要。', en: 'Needed only with a lower limit.' },
  reasonsChosen: { zh: '已选', en: 'chosen' },
  reasonsUnavailable: {
    zh: '原因目录加载失败，请刷新页面后重试。',
    en: 'The reason catalogue could not be loaded; reload the page and try again.',
  },
  notAppealable: { zh: '不可申诉', en: 'not appealable' },
  'category.application': { zh: '申请', en: 'Application' },
  'category.draw': { zh: '支用', en: 'Draw' },
  'category.line': { zh: '额度', en: 'Line' },
  'category.fraud': { zh: '欺诈与诈骗', en: 'Fraud and scams' },
  'category.engine': { zh: '系统与人工审核', en: 'Engine and manual review' },
  'category.compliance': { zh: '合规', en: 'Compliance' },
  textZhLabel: { zh: '给借款人的说明（中文）', en: 'Text for the borrower (Chinese)' },
  textEnLabel: { zh: '给借款人的说明（英文）', en: 'Text for the borrower (English)' },
  textsHint: {
    zh: '借款人将看到这段说明：中英文都必须填写，不能只有空白。',
    en: 'The borrower reads this: both languages are required, and blanks alone are not text.',
  },
  resolvedAs: { zh: '已结案', en: 'Resolved' },
  waitingSecondPerson: {
    zh: '等待第二人复核（四眼原则）：此处理结果尚未生效，由主管或管理员在“待复核变更”中批准或驳回。',
    en: 'Waiting for a second person (four eyes): this outcome has not taken effect; a supervisor or admin approves or rejects it under Pending changes.',
  },
  pendingChangeWord: { zh: '待复核变更', en: 'Pending change' },
  proposedOutcome: { zh: '待批准的结果', en: 'Outcome waiting' },
  'limit.blank': { zh: '请填写额度。', en: 'Enter the limit.' },
  'limit.negative': { zh: '额度不能为负数。', en: 'The limit cannot be negative.' },
  'limit.format': {
    zh: '额度格式不对：请填写数字，如 12345.67 或 12,345.67（逗号只能用作千位分隔）。',
    en: 'The limit is not a number in yuan such as 12345.67 or 12,345.67 (commas only between thousands).',
  },
  'limit.decimals': { zh: '额度最多两位小数（到分）。', en: 'The limit has at most 2 decimals (fen).' },
  'limit.tooLarge': { zh: '额度过大。', en: 'The limit is too large.' },
  'limit.zero': { zh: '额度必须大于零。', en: 'The limit must be more than zero.' },
  'rate.blank': { zh: '请填写年利率。', en: 'Enter the annual rate.' },
  'rate.negative': { zh: '年利率不能为负数。', en: 'The annual rate cannot be negative.' },
  'rate.format': {
    zh: '年利率格式不对：请填写百分比数字，如 15 或 14.6。',
    en: 'The annual rate is not a percent such as 15 or 14.6.',
  },
  'rate.decimals': { zh: '年利率最多四位小数。', en: 'The annual rate has at most 4 decimals.' },
  'rate.tooLarge': { zh: '年利率不能超过 100%。', en: 'The annual rate cannot be above 100%.' },
  'reasons.blank': { zh: '请至少选择一个原因。', en: 'Choose at least one reason.' },
  'reasons.tooMany': { zh: '最多选择 8 个原因。', en: 'Choose at most 8 reasons.' },
  'reasons.unknown': { zh: '有原因代码不在原因目录中。', en: 'A reason code is not in the catalogue.' },
  'reasons.automationOnly': {
    zh: 'R_ENGINE_ERROR 与 R_BLAST_RADIUS_GUARD 只能由系统使用。',
    en: 'R_ENGINE_ERROR and R_BLAST_RADIUS_GUARD are given by automation only.',
  },
  'reasons.needWhy': {
    zh: '不利于借款人的处理须至少有一个说明原因的原因代码（不能只有 R_GOOD_REPAYMENT、R_INCOME_GROWTH 或 R_RISK_RESOLVED）。',
    en: 'An adverse outcome needs a reason that says why (not only R_GOOD_REPAYMENT, R_INCOME_GROWTH or R_RISK_RESOLVED).',
  },
  'textZh.blank': { zh: '请填写给借款人的中文说明。', en: 'Write the text for the borrower in Chinese.' },
  'textEn.blank': { zh: '请填写给借款人的英文说明。', en: 'Write the text for the borrower in English.' },
  'textZh.tooLong': { zh: '中文说明最多 2000 字。', en: 'The Chinese text has at most 2,000 characters.' },
  'textEn.tooLong': { zh: '英文说明最多 2000 字。', en: 'The English text has at most 2,000 characters.' },
  'note.tooLong': { zh: '备注最多 2000 字。', en: 'The note has at most 2,000 characters.' },
} as const;

export type WordKey = keyof typeof WORDS;

interface I18n {
  readonly lang: Lang;
  readonly t: (key: WordKey) => string;
  readonly toggle: () => void;
}

const LANG_SLOT = 'lineguard.lang';
const I18nContext = createContext<I18n | null>(null);

export function I18nProvider({ children }: { children: ReactNode }): ReactNode {
  const [lang, setLang] = useState<Lang>(() => (sessionStorage.getItem(LANG_SLOT) === 'en' ? 'en' : 'zh'));
  useEffect(() => {
    sessionStorage.setItem(LANG_SLOT, lang);
    document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  }, [lang]);
  const value: I18n = {
    lang,
    t: (key) => WORDS[key][lang],
    toggle: () => setLang((l) => (l === 'zh' ? 'en' : 'zh')),
  };
  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

export function useI18n(): I18n {
  const value = useContext(I18nContext);
  if (!value) throw new Error('useI18n outside I18nProvider');
  return value;
}

/** Money in minor units shown in major units with the currency (fen → ¥). */
export function formatMoney(minor: number, currency: string, lang: Lang): string {
  return new Intl.NumberFormat(lang === 'zh' ? 'zh-CN' : 'en-US', { style: 'currency', currency }).format(
    minor / 100,
  );
}

export function formatPercent(value: number | null | undefined, lang: Lang): string {
  if (value === null || value === undefined) return '—';
  return new Intl.NumberFormat(lang === 'zh' ? 'zh-CN' : 'en-US', {
    style: 'percent',
    maximumFractionDigits: 2,
  }).format(value);
}

export function formatTime(iso: string | number, lang: Lang): string {
  return new Date(iso).toLocaleString(lang === 'zh' ? 'zh-CN' : 'en-GB', { hour12: false });
}
