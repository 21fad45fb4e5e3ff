import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { builtinTools } from "../../lib/tools/builtins.ts";
import { cryptoPrices, makeCryptoPrices, PRODUCT_ID } from "../../lib/tools/crypto_prices.ts";
import { ToolRegistry } from "../../lib/tools/registry.ts";

// --- A local Coinbase --------------------------------------------------------

/** One request the fake API received. */
interface Seen {
  method: string;
  path: string;
  search: string;
  contentType: string | null;
}

type Reply = Response | "hang";
type Handler = (productId: string) => Reply | Promise<Reply>;

/** A market product as Coinbase's Advanced Trade API sends it. */
const BTC_USD = {
  product_id: "BTC-USD",
  price: "97123.45",
  price_percentage_change_24h: "1.23456789",
  volume_24h: "12345.67890123",
  volume_percentage_change_24h: "-3.21",
  base_increment: "0.00000001",
  quote_increment: "0.01",
  quote_min_size: "1",
  quote_max_size: "150000000",
  base_min_size: "0.00000001",
  base_max_size: "3400",
  base_name: "Bitcoin",
  quote_name: "US Dollar",
  watched: false,
  is_disabled: false,
  new: false,
  status: "online",
  cancel_only: false,
  limit_only: false,
  post_only: false,
  trading_disabled: false,
  auction_mode: false,
  product_type: "SPOT",
  quote_currency_id: "USD",
  base_currency_id: "BTC",
  fcm_trading_session_details: null,
  mid_market_price: "",
  alias: "",
  alias_to: [],
  base_display_symbol: "BTC",
  quote_display_symbol: "USD",
  view_only: false,
  price_increment: "0.01",
  display_name: "BTC/USD",
  product_venue: "CBE",
  approximate_quote_24h_volume: "1199123456.78",
};

const NOT_FOUND = {
  error: "NOT_FOUND",
  error_details: "ProductID is invalid",
  message: "ProductID is invalid",
};

/** Knows BTC-USD; anything else is Coinbase's 404. */
const coinbase: Handler = (id) =>
  id === "BTC-USD" ? Response.json(BTC_USD) : Response.json(NOT_FOUND, { status: 404 });

const PREFIX = "/api/v3/brokerage/market/products";

class FakeCoinbase {
  readonly seen: Seen[] = [];
  readonly #abort = new AbortController();
  readonly #server: Deno.HttpServer<Deno.NetAddr>;

  constructor(handler: Handler) {
    this.#server = Deno.serve({
      hostname: "127.0.0.1",
      port: 0,
      onListen: () => {},
      signal: this.#abort.signal,
    }, async (req) => {
      const url = new URL(req.url);
      this.seen.push({
        method: req.method,
        path: url.pathname,
        search: url.search,
        contentType: req.headers.get("content-type"),
      });
      if (!url.pathname.startsWith(`${PREFIX}/`)) return new Response("no route", { status: 418 });
      const reply = await handler(decodeURIComponent(url.pathname.slice(PREFIX.length + 1)));
      if (reply !== "hang") return reply;
      // Never answers; held until the server closes (the client gives up on its own).
      await new Promise<void>((resolve) => {
        this.#abort.signal.addEventListener("abort", () => resolve(), { once: true });
      });
      return new Response(null, { status: 599 });
    });
  }

  /** The endpoint, with a trailing slash that the tool must not double. */
  get endpoints() {
    return { coinbase: `http://127.0.0.1:${this.#server.addr.port}${PREFIX}/` };
  }

  async [Symbol.asyncDispose]() {
    this.#abort.abort();
    await this.#server.finished;
  }
}

function run(api: FakeCoinbase, productId: unknown, signal = new AbortController().signal) {
  return cryptoPrices.run({ product_id: productId }, { signal }, { endpoints: api.endpoints });
}

// --- product id check ----------------------------------------------------------

const idCases: Array<[string, boolean]> = [
  ["BTC-USD", true],
  ["eth-eur", true],
  ["USDT-USDC", true],
  ["A-B", true],
  ["ABCDEFGHIJKLMNO-USD", true],
  ["ABCDEFGHIJKLMNOP-USD", false],
  ["BTCUSD", false],
  ["BTC_USD", false],
  ["BTC-", false],
  ["-USD", false],
  ["BTC-USD-EUR", false],
  ["BTC-USD/../../accounts", false],
  ["../accounts", false],
  ["BTC-USD?limit=1", false],
  ["BTC-USD#x", false],
  ["BTC-US D", false],
  ["BTC-USD\n", false],
  ["ÄBC-USD", false],
];

for (const [id, valid] of idCases) {
  Deno.test(`${valid ? "accepts" : "rejects"} the product id ${JSON.stringify(id)}`, () => {
    strictEqual(PRODUCT_ID.test(id), valid);
  });
}

// --- crypto_prices against the local API ----------------------------------------

Deno.test("crypto_prices GETs the product with a JSON content type and passes the body on", async () => {
  await using api = new FakeCoinbase(coinbase);
  const result = await run(api, "BTC-USD");
  strictEqual(typeof result, "string");
  deepStrictEqual(JSON.parse(result as string), BTC_USD);
  deepStrictEqual(api.seen, [{
    method: "GET",
    path: `${PREFIX}/BTC-USD`,
    search: "",
    contentType: "application/json",
  }]);
});

Deno.test("crypto_prices re-serialises a pretty-printed body compactly", async () => {
  await using api = new FakeCoinbase(() =>
    new Response('{\n  "product_id": "ETH-EUR",\n  "price": "3012.5"\n}\n', {
      headers: { "content-type": "application/json" },
    })
  );
  strictEqual(await run(api, "ETH-EUR"), '{"product_id":"ETH-EUR","price":"3012.5"}');
});

Deno.test("crypto_prices passes a JSON string body on as JSON, not as a result", async () => {
  await using api = new FakeCoinbase(() => Response.json("maintenance"));
  strictEqual(await run(api, "BTC-USD"), '"maintenance"');
});

for (const status of [404, 500, 503]) {
  Deno.test(`crypto_prices reports HTTP ${status} by its status only`, async () => {
    await using api = new FakeCoinbase(() => Response.json(NOT_FOUND, { status }));
    deepStrictEqual(await run(api, "BTC-USD"), { error: `HTTP ${status}` });
  });
}

Deno.test("crypto_prices reports an unknown pair as Coinbase's 404", async () => {
  await using api = new FakeCoinbase(coinbase);
  deepStrictEqual(await run(api, "DOGE-XYZ"), { error: "HTTP 404" });
  strictEqual(api.seen[0].path, `${PREFIX}/DOGE-XYZ`);
});

Deno.test("crypto_prices wraps a body that is not JSON as a result", async () => {
  await using api = new FakeCoinbase(() =>
    new Response("<html>Just a moment...</html>", { headers: { "content-type": "text/html" } })
  );
  deepStrictEqual(await run(api, "BTC-USD"), { result: "<html>Just a moment...</html>" });
});

Deno.test("crypto_prices wraps an empty body as an empty result", async () => {
  await using api = new FakeCoinbase(() => new Response(""));
  deepStrictEqual(await run(api, "BTC-USD"), { result: "" });
});

Deno.test("crypto_prices gives up on an API that never answers after its timeout", async () => {
  await using api = new FakeCoinbase(() => "hang");
  const result = await makeCryptoPrices(300).run(
    { product_id: "BTC-USD" },
    { signal: new AbortController().signal },
    { endpoints: api.endpoints },
  );
  deepStrictEqual(result, { error: "Request failed: timed out after 0 s" });
});

Deno.test("crypto_prices stops when the call is cancelled", async () => {
  await using api = new FakeCoinbase(() => "hang");
  deepStrictEqual(await run(api, "BTC-USD", AbortSignal.timeout(200)), {
    error: "Request failed: cancelled",
  });
});

Deno.test("crypto_prices reports an unreachable API as a failed request", async () => {
  const api = new FakeCoinbase(coinbase);
  const endpoints = api.endpoints;
  await api[Symbol.asyncDispose]();
  const result = await cryptoPrices.run({ product_id: "BTC-USD" }, {
    signal: new AbortController().signal,
  }, { endpoints }) as { error: string };
  strictEqual(result.error.startsWith("Request failed: "), true, result.error);
});

for (const id of ["../../accounts", "BTC-USD/../../orders", "BTC-USD?x=1", "", 7]) {
  Deno.test(`crypto_prices refuses the product id ${JSON.stringify(id)} without a request`, async () => {
    await using api = new FakeCoinbase(coinbase);
    deepStrictEqual(await run(api, id), {
      error: `Invalid product_id '${id}'; expected a pair like BTC-USD`,
    });
    strictEqual(api.seen.length, 0);
  });
}

Deno.test("crypto_prices ignores spaces around the product id", async () => {
  await using api = new FakeCoinbase(coinbase);
  deepStrictEqual(JSON.parse(await run(api, " BTC-USD ") as string), BTC_USD);
  strictEqual(api.seen[0].path, `${PREFIX}/BTC-USD`);
});

// --- through the registry ----------------------------------------------------------

Deno.test("crypto_prices through the registry gives the model the provider's JSON", async () => {
  await using api = new FakeCoinbase(() =>
    Response.json({ product_id: "BTC-EUR", price: "89000.1", quote_name: "Euro €" })
  );
  const registry = new ToolRegistry(builtinTools({ endpoints: api.endpoints, fetch }));
  const result = await registry.call("crypto_prices", { product_id: "BTC-EUR" });
  strictEqual(result.ok, true);
  strictEqual(result.content, '{"product_id":"BTC-EUR","price":"89000.1","quote_name":"Euro €"}');
});

Deno.test("crypto_prices through the registry gives the model a status error as JSON", async () => {
  await using api = new FakeCoinbase(coinbase);
  const registry = new ToolRegistry(builtinTools({ endpoints: api.endpoints }));
  const result = await registry.call("crypto_prices", { product_id: "NOPE-USD" });
  strictEqual(result.content, '{"error":"HTTP 404"}');
});
