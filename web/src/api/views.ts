/**
 * Shapes of the answers whose operations do not yet declare a response schema in the OpenAPI document (they come
 * from src/core/views.ts and src/core/loans.ts). Once those routes declare one, the generated types replace these.
 */
export interface LineView {
  id: string;
  status: string;
  currency: string;
  limitMinor: number;
  availableMinor: number;
  outstandingPrincipalMinor: number;
  annualRate: number;
  dpd: number;
  bucket: string;
  borrower: { id: string; name: string; phone: string; nationalId?: string };
  createdAt: string;
  updatedAt: string;
}

export interface LoanView {
  id: string;
  status: string;
  currency: string;
  principalMinor: number;
  outstandingPrincipalMinor: number;
  annualRate: number;
  termMonths: number;
  method: string;
  startDate: string;
  dpd: number;
  bucket: string;
  disclosure: {
    apr: { US_REGZ: number; EU_CCD: number; CN_IRR: number };
    totalInterestMinor: number;
    totalFeesMinor: number;
    totalRepayableMinor: number;
  };
  schedule: {
    seq?: number;
    dueDate: string;
    principalMinor: number;
    interestMinor: number;
    feeMinor: number;
    status?: string;
  }[];
}

export interface ExplanationView {
  status: string;
  headline?: string;
  reasons: { code: string; text: string; whatToDo?: string }[];
  appeal?: unknown;
  [key: string]: unknown;
}

export interface StrategySummary {
  id: string;
  name: string;
  activeVersion: number | null;
  latestVersion: number;
  updatedAt: number;
}

export interface StrategyVersion {
  strategyId: string;
  version: number;
  status: string;
  document: unknown;
  createdBy: string;
  createdAt: number;
  activatedBy: string | null;
  activatedAt: number | null;
}

export interface SimulationReport {
  decisions: number;
  changed: number;
  contextErrors: number;
  outcomeMatrix: Record<string, Record<string, number>>;
  approvalRate: { before: number; after: number };
  freezeRate: { before: number; after: number };
  newlyDeclined: {
    decisionId?: string;
    subject?: string;
    borrowerId?: string | null;
    lineId?: string | null;
  }[];
  newlyFrozen: {
    decisionId?: string;
    subject?: string;
    borrowerId?: string | null;
    lineId?: string | null;
  }[];
  parameterChanges?: unknown[];
  truncated: boolean;
}

export interface OverlayView {
  name: string;
  value: unknown;
  description?: string | null;
  updatedBy?: string;
  updatedAt?: number;
  [key: string]: unknown;
}

export interface OverlayDeclaration {
  name: string;
  type: string;
  min: number;
  max: number;
  description: string;
}

export interface OverlayChange {
  name: string;
  value: unknown;
  previousValue: unknown;
  changedBy: string;
  changedAt: number;
}

export interface CaseView {
  id: string;
  type: string;
  priority: number;
  state: string;
  subjectId: string;
  lineId: string | null;
  borrowerId: string | null;
  typologyId: string | null;
  assignee: string | null;
  slaDueAt: string;
  slaBreached: boolean;
  createdAt: string;
  outcome: string | null;
  outcomeDetail: unknown;
}

export interface CaseDetail extends CaseView {
  notes: { text: string; author?: string; at?: string }[];
  history: { seq: number; kind: string; at: string }[];
  evidence: Record<string, unknown>;
}

export interface PendingChange {
  id: string;
  operation: string;
  subjectId: string;
  diff: unknown;
  reason: string;
  maker: string;
  state: string;
  checker: string | null;
  expiresAt: string;
  createdAt: string;
}

export interface LineExplanation {
  lineId: string;
  status: string;
  statusText: string;
  limitMinor: number;
  availableMinor: number;
  currency: string;
  reasons: { code: string; text: string; whatToDo?: string }[];
  summary: string;
  whatToDo: string[];
  appeal: { appealable: boolean; deadline: string | null; how: string; path: string };
  automated: boolean;
  decidedAt: string | null;
  openAppeals?: AppealView[];
  specifics: {
    action: {
      id: string;
      type: string;
      at: string;
      by: string;
      actor: string | null;
      decisionId: string | null;
    } | null;
  };
}

export interface AppealView {
  id: string;
  state: string;
  deadline?: string;
  slaDueAt?: string;
  outcome?: { text?: string; zh?: string; en?: string } | null;
  [key: string]: unknown;
}
