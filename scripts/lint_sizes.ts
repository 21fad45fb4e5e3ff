/// <reference lib="deno.unstable" />
/**
 * A `deno lint` plugin that keeps `lib/` readable: no function longer than
 * {@link MAX_FUNCTION_LINES} lines and no module longer than
 * {@link MAX_MODULE_LINES} (docs/architecture.md). Tests, scripts and
 * benchmarks are not held to it.
 *
 * @module
 */

/** The longest a function in `lib/` may be, in lines. */
export const MAX_FUNCTION_LINES = 60;
/** The longest a module in `lib/` may be, in lines. */
export const MAX_MODULE_LINES = 400;

type Ranged = Deno.lint.Node & { range: [number, number] };

const inLib = (filename: string) => /[\\/]lib[\\/]/.test(filename);

const plugin: Deno.lint.Plugin = {
  name: "sizes",
  rules: {
    "function-length": {
      create(context) {
        if (!inLib(context.filename)) return {};
        const text = context.sourceCode.text;
        const check = (node: Ranged) => {
          const lines = text.slice(node.range[0], node.range[1]).split("\n").length;
          if (lines > MAX_FUNCTION_LINES) {
            context.report({
              node,
              message: `function of ${lines} lines (at most ${MAX_FUNCTION_LINES} in lib/)`,
              hint: "Cut it along its steps into named functions",
            });
          }
        };
        return {
          FunctionDeclaration: check,
          FunctionExpression: check,
          ArrowFunctionExpression: check,
        };
      },
    },
    "module-length": {
      create(context) {
        if (!inLib(context.filename)) return {};
        return {
          Program(node: Ranged) {
            const lines = context.sourceCode.text.trimEnd().split("\n").length;
            if (lines > MAX_MODULE_LINES) {
              context.report({
                node,
                message: `module of ${lines} lines (at most ${MAX_MODULE_LINES} in lib/)`,
                hint: "Cut it along its jobs into modules of one family (docs/architecture.md)",
              });
            }
          },
        };
      },
    },
  },
};

export default plugin;
