/**
 * Middleware composition in the manner of grammY's `Composer` and Hono's
 * `compose`: each step gets the turn and a `next` that runs the steps after
 * it. A step that does not call `next` ends the path of the message there.
 *
 * @module
 */

/** Runs the rest of the pipeline. */
export type Next = () => Promise<void>;

/** One step of a pipeline. */
export type Step<T> = (turn: T, next: Next) => Promise<void> | void;

/**
 * Composes `steps` into one step. Steps run synchronously until one awaits:
 * a step that calls `next` before its first `await` lets the following steps
 * start in the same tick (the bot relies on it to queue messages in their
 * order of arrival). Calling `next` twice in one step throws.
 */
export function compose<T>(steps: readonly Step<T>[]): (turn: T, next?: Next) => Promise<void> {
  return (turn, last) => {
    let index = -1;
    const dispatch = (i: number): Promise<void> => {
      if (i <= index) return Promise.reject(new Error("next() called more than once"));
      index = i;
      try {
        if (i === steps.length) return last ? last() : Promise.resolve();
        return Promise.resolve(steps[i](turn, () => dispatch(i + 1)));
      } catch (error) {
        return Promise.reject(error);
      }
    };
    return dispatch(0);
  };
}
