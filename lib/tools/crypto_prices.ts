/**
 * `crypto_prices`: a Coinbase market product (price and 24 h statistics of
 * a trading pair), unauthenticated (reference §5.1). The product id is
 * checked first so it cannot reach another path of the API.
 *
 * @module
 */
import { request } from "./http.ts";
import { type BuiltinImplementation, endpoint } from "./options.ts";

/** The reference's timeout. */
export const CRYPTO_TIMEOUT_MS = 60_000;

/** A trading pair such as `BTC-USD`. */
export const PRODUCT_ID = /^[A-Za-z0-9]{1,15}-[A-Za-z0-9]{1,15}$/;

/** `crypto_prices` with its request timeout set (tests use short ones). */
export function makeCryptoPrices(timeoutMs = CRYPTO_TIMEOUT_MS): BuiltinImplementation {
  return {
    async run(args, call, options) {
      const raw = args.product_id;
      const productId = typeof raw === "string" ? raw.trim() : "";
      if (!PRODUCT_ID.test(productId)) {
        return { error: `Invalid product_id '${String(raw ?? "")}'; expected a pair like BTC-USD` };
      }
      let response;
      try {
        response = await request(`${endpoint(options, "coinbase")}/${productId}`, {
          headers: { "Content-Type": "application/json" },
          timeoutMs,
          signal: call.signal,
          fetch: options.fetch,
        });
      } catch (error) {
        return { error: `Request failed: ${(error as Error).message}` };
      }
      if (!response.ok) return { error: `HTTP ${response.status}` };
      // JSON text is passed on re-serialised; the registry keeps JSON strings as they are.
      if (response.json === undefined) return { result: response.text };
      return JSON.stringify(response.json);
    },
  };
}

/** `crypto_prices` with the reference's 60 s timeout. */
export const cryptoPrices: BuiltinImplementation = makeCryptoPrices();
