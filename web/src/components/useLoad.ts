import { useCallback, useEffect, useRef, useState } from 'react';
import { errorOf, type ApiError } from '../api/client';

export interface Loaded<T> {
  readonly data: T | undefined;
  readonly error: ApiError | undefined;
  readonly loading: boolean;
  readonly reload: () => void;
}

interface Answer<T> {
  readonly data?: T;
  readonly error?: unknown;
}

/**
 * Runs a typed API call and keeps its latest answer; with `refreshMs` it polls (the overview's live refresh).
 * A late answer from an older call never overwrites a newer one.
 */
export function useLoad<T>(
  call: () => Promise<Answer<T>>,
  deps: readonly unknown[],
  refreshMs?: number,
): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: ApiError; loading: boolean }>({ loading: true });
  const generation = useRef(0);
  // The caller names what the call depends on, as with useEffect.
  const run = useCallback(call, deps);
  const reload = useCallback(() => {
    const mine = ++generation.current;
    run().then(
      (answer) => {
        if (mine !== generation.current) return;
        setState(
          answer.error === undefined
            ? { data: answer.data, loading: false }
            : { error: errorOf(answer.error), loading: false },
        );
      },
      () =>
        mine === generation.current &&
        setState({ error: { code: 'LG_NETWORK', message: 'network error' }, loading: false }),
    );
  }, [run]);
  useEffect(() => {
    reload();
    if (!refreshMs) return undefined;
    const timer = window.setInterval(reload, refreshMs);
    return () => window.clearInterval(timer);
  }, [reload, refreshMs]);
  return { data: state.data, error: state.error, loading: state.loading, reload };
}
