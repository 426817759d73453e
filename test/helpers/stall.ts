/**
 * A one-shot stall for race tests: the first `pause()` waits until `resume()` (a GC pause or a busy CPU at a chosen
 * point of a request), and `paused` resolves once it has begun, so the test can act meanwhile. Later calls pass.
 */
export interface Stall {
  readonly paused: Promise<void>;
  pause(): Promise<void>;
  resume(): void;
}

export function stallOnce(): Stall {
  let armed = true;
  let begun: () => void = () => undefined;
  let release: () => void = () => undefined;
  const paused = new Promise<void>((resolve) => (begun = resolve));
  const resumed = new Promise<void>((resolve) => (release = resolve));
  return {
    paused,
    resume: () => release(),
    async pause() {
      if (!armed) return;
      armed = false;
      begun();
      await resumed;
    },
  };
}
