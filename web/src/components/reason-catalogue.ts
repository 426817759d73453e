import { api } from '../api/client';
import type { ReasonView } from '../api/views';

/** A reason code as `GET /v1/reasons` serves it: texts, appealability, and what a person's reasons are checked by. */
export type ReasonDefinition = ReasonView;

/** The catalogue the API checks a person's reasons against, read once from `GET /v1/reasons`. */
export interface Catalogue {
  readonly codes: readonly ReasonDefinition[];
  readonly byCode: ReadonlyMap<string, ReasonDefinition>;
}

let loading: Promise<Catalogue> | undefined;

/** Loads the catalogue (once per page; a failed load is tried again next time). */
export function loadReasonCatalogue(): Promise<Catalogue> {
  loading ??= api.GET('/v1/reasons').then(({ data, error }) => {
    if (error !== undefined || data === undefined) {
      loading = undefined;
      throw new Error('the reason catalogue could not be read');
    }
    const codes = [...data.items].sort((a, b) => a.priority - b.priority);
    return { codes, byCode: new Map(codes.map((d) => [d.code, d])) };
  });
  return loading;
}
